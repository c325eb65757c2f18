"""The report's building blocks: text, lists, tables, figures and sections.

Sections (:mod:`pilot_eval.report.sections`) return these frozen blocks; the page template
(``templates/report.html.j2``) and the notebook (``_repr_html_``) render the same blocks, so
what a funder reads and what an analyst sees in JupyterLab are one thing. Every string is
escaped when rendered; ``**bold**`` is the only markup text may carry.
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pandas as pd
from markupsafe import Markup, escape

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = ["Figure", "Items", "Section", "Table", "Text", "inline"]

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> Markup:
    """Escape ``text`` for HTML, then turn ``**bold**`` into ``<strong>``."""
    return Markup(_BOLD.sub(r"<strong>\1</strong>", str(escape(text))))


def plain(text: str) -> str:
    """``text`` without its ``**bold**`` markers (for word counts and alt text)."""
    return _BOLD.sub(r"\1", text)


@dataclass(frozen=True)
class Text:
    """A paragraph. ``kind`` ``note`` is set apart; ``warning`` is a boxed caveat."""

    text: str
    kind: Literal["p", "note", "warning", "lead"] = "p"

    def words(self) -> str:
        return plain(self.text)


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: tuple[str, ...]

    def words(self) -> str:
        return " ".join(plain(i) for i in self.items)


@dataclass(frozen=True)
class Table:
    """A captioned table. Columns named in ``numeric`` are right-aligned; the first column
    holds row headers (``th scope="row"``)."""

    frame: pd.DataFrame
    caption: str
    numeric: tuple[str, ...] = ()

    def words(self) -> str:
        return self.caption

    def rows(self) -> list[list[tuple[str, bool]]]:
        """Each cell's text and whether it is numeric (for alignment)."""
        cols = list(self.frame.columns)
        return [
            [
                ("" if pd.isna(v) else str(v), c in self.numeric)
                for c, v in zip(cols, row, strict=True)
            ]
            for row in self.frame.itertuples(index=False, name=None)
        ]


@dataclass(frozen=True)
class Figure:
    """A chart or map as a PNG, with alt text written from the data and a caption."""

    png: bytes = field(repr=False)
    alt: str
    caption: str

    @classmethod
    def from_matplotlib(cls, fig: MplFigure, *, alt: str, caption: str) -> Figure:
        buf = io.BytesIO()
        # No "Software" or date metadata: the same figure gives the same bytes.
        fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})
        return cls(png=buf.getvalue(), alt=alt, caption=caption)

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def words(self) -> str:
        return self.caption


Block = Text | Items | Table | Figure


@dataclass(frozen=True)
class Section:
    """A titled part of the report: blocks, then subsections (one heading level down)."""

    id: str
    title: str
    blocks: tuple[Block, ...] = ()
    subsections: tuple[Section, ...] = ()
    level: int = 2
    appendix: bool = False

    def words(self) -> str:
        """The section's readable words (for length checks and wording tests)."""
        parts = [self.title, *(b.words() for b in self.blocks)]
        parts += [s.words() for s in self.subsections]
        return " ".join(parts)

    def _repr_html_(self) -> str:
        from .page import render_section

        return render_section(self)
