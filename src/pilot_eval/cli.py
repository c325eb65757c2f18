"""Command line: ``pilot-eval demo | validate | run | fetch police``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import PilotEvalError


def _parse_value(text: str):
    """Notebook parameter values are YAML scalars: 3 -> int, 0.1 -> float, text -> str."""
    import yaml

    return yaml.safe_load(text)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import generate_demo

    manifest = generate_demo(Path(args.out), seed=args.seed)
    print(f"SYNTHETIC DEMO DATA written to {Path(args.out).resolve()}")
    print(manifest.summary() if hasattr(manifest, "summary") else manifest)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config
    from .pipeline import plan, prepare

    cfg = load_config(args.config)
    prepared = prepare(cfg)
    print(prepared.describe())
    gaps = plan(prepared)
    for n in gaps:
        if n.analysis == "*":
            print(f"Outcome '{n.outcome}' cannot be estimated: {n.reason}.")
        else:
            print(f"Not computed for '{n.outcome}': {n.label}, because {n.reason}.")
    print("OK: the config and its data are ready to run.")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .report.run import run_pilot

    params = {name: _parse_value(value) for name, value in (args.parameter or [])}
    outputs = run_pilot(
        args.config,
        output_root=args.output_root,
        parameters=params,
        notebook=args.notebook,
    )
    print(f"Report written: {outputs.report_html}")
    print(f"Results:        {outputs.results_json}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .io.fetch import fetch_police

    paths = fetch_police(force=args.force, start=args.start, end=args.end, dest=Path(args.dest))
    print(f"{len(paths)} monthly file(s) in {Path(args.dest).resolve()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pilot-eval",
        description="Reproducible evaluation of place-based community-safety pilots.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="write the SYNTHETIC demo data set")
    d.add_argument("--out", default="data/demo", help="folder to write (default: data/demo)")
    d.add_argument("--seed", type=int, default=20240401)
    d.set_defaults(func=_cmd_demo)

    v = sub.add_parser("validate", help="check a pilot config and its data, print a summary")
    v.add_argument("config", help="pilot YAML, e.g. pilots/demo-belvedere.yml")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("run", help="evaluate a pilot and write reports/<slug>/")
    r.add_argument("config", help="pilot YAML, e.g. pilots/demo-belvedere.yml")
    r.add_argument("--output-root", default="reports")
    r.add_argument("--notebook", default=None, help="notebook to run (default: the project's)")
    r.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="extra notebook parameter; unknown names are rejected",
    )
    r.set_defaults(func=_cmd_run)

    f = sub.add_parser("fetch", help="download public data")
    fsub = f.add_subparsers(dest="what", required=True)
    fp = fsub.add_parser("police", help="police.uk street-level crime archives")
    fp.add_argument("--force", required=True, help="force id, e.g. metropolitan")
    fp.add_argument("--from", dest="start", required=True, help="first month YYYY-MM")
    fp.add_argument("--to", dest="end", required=True, help="last month YYYY-MM")
    fp.add_argument("--dest", default="data/police-uk")
    fp.set_defaults(func=_cmd_fetch)

    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PilotEvalError as exc:
        print(f"pilot-eval: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
