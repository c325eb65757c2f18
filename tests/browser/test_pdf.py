"""write_pdf: an A4 PDF printed offline by the system's Chromium, with actionable errors."""

from __future__ import annotations

import logging
import sys

import pytest
from browser_helpers import pdf_pages_text

from pilot_eval.errors import ReportError
from pilot_eval.report.pdf import write_pdf

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="https://cdn.example.com/style.css"></head>
<body><h1>Printed offline</h1><img alt="remote" src="https://example.com/x.png">
<p style="break-before: page">Second page</p></body></html>"""


@pytest.fixture
def page_html(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_prints_a4_offline_with_page_numbers(page_html, tmp_path, chromium_path, caplog):
    pdf = tmp_path / "out.pdf"
    with caplog.at_level(logging.WARNING, logger="pilot_eval.report.pdf"):
        assert write_pdf(page_html, pdf) == pdf
    pages = pdf_pages_text(pdf)
    assert len(pages) == 2
    assert "Printed offline" in pages[0] and "Page 1 of 2" in pages[0]
    assert "Second page" in pages[1] and "Page 2 of 2" in pages[1]
    assert b"/MediaBox [0 0 595.9" in pdf.read_bytes()  # A4: 595.92 x 842.88 pt
    assert "https://cdn.example.com/style.css" in caplog.text  # blocked, and said so
    assert not list(tmp_path.glob(".*partial"))


def test_missing_chromium_says_how_to_install(page_html, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOT_EVAL_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ReportError, match="apt-get install chromium"):
        write_pdf(page_html, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_missing_playwright_says_how_to_install(page_html, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOT_EVAL_CHROMIUM", sys.executable)  # any executable will do here
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import fails
    with pytest.raises(ReportError, match="pip install playwright"):
        write_pdf(page_html, tmp_path / "out.pdf")


def test_missing_page_or_folder(tmp_path, page_html):
    with pytest.raises(ReportError, match="does not exist"):
        write_pdf(tmp_path / "nothing.html", tmp_path / "out.pdf")
    with pytest.raises(ReportError, match="does not exist"):
        write_pdf(page_html, tmp_path / "no-folder" / "out.pdf")


def test_a_browser_that_fails_leaves_no_pdf(page_html, tmp_path, monkeypatch):
    monkeypatch.setenv("PILOT_EVAL_CHROMIUM", "/bin/false")
    with pytest.raises(ReportError, match="printing .* to PDF with /bin/false failed"):
        write_pdf(page_html, tmp_path / "out.pdf", timeout_s=20)
    assert not (tmp_path / "out.pdf").exists()
    assert not list(tmp_path.glob(".*partial"))
