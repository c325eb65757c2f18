"""Command line: ``pilot-eval demo | validate | run | run-all | plan | fetch police``."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from .errors import ConfigError, PilotEvalError, RunInterrupted

#: Exit codes: 2 for a user error (config, data, paths), 1 for a bug, 128 + signal when stopped.
EXIT_USER_ERROR = 2
EXIT_BUG = 1


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
    from .config import load_config
    from .pipeline import prepare
    from .report.run import check_output_root, run_pilot

    check_output_root(args.output_root)  # before anything runs
    # The checks validate makes, before a kernel starts: a data problem is then one line
    # naming the file and field (and no failed notebook), as with validate.
    prepare(load_config(args.config))
    params = {name: _parse_value(value) for name, value in (args.parameter or [])}
    if args.scheduler:
        from .parallel import cluster_executor

        with cluster_executor(args.scheduler):  # reachable, before a kernel starts
            pass
        params["scheduler"] = args.scheduler
    outputs = run_pilot(
        args.config,
        output_root=args.output_root,
        parameters=params,
        notebook=args.notebook,
        pdf=args.pdf,
    )
    print(f"Report written: {outputs.report_html}")
    print(f"Results:        {outputs.results_json}")
    if outputs.pdf is not None:
        print(f"PDF:            {outputs.pdf}")
    return 0


def _cmd_run_all(args: argparse.Namespace) -> int:
    from .portfolio.run_all import BatchInterrupted, run_all, summary_lines

    if args.scheduler is not None and args.dask_workers is not None:
        raise ConfigError("give --scheduler (an existing Dask cluster) or --dask-workers, not both")
    root = Path(args.output_root).resolve()
    try:
        rows = run_all(
            args.configs,
            output_root=args.output_root,
            workers=args.workers,
            scheduler=args.scheduler,
            dask_workers=args.dask_workers,
        )
    except BatchInterrupted as exc:
        for line in summary_lines(exc.rows, root):
            print(line)
        print(
            "pilot-eval: stopped (Ctrl-C): finished reports are published; a stopped pilot "
            "keeps its previous report and its FAILED.txt says so.",
            file=sys.stderr,
        )
        return 130
    for line in summary_lines(rows, root):
        print(line)
    return EXIT_USER_ERROR if any(r["status"] != "done" for r in rows) else 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from .config import load_config
    from .portfolio.plan import make_plan, register_plan, write_plan

    cfg = load_config(args.config)
    plan = make_plan(args.config, areas=args.areas, post=tuple(args.post), n_sims=args.n_sims)
    print(
        f"Minimum detectable {plan.direction} in '{plan.outcome}' (headline test: conformal, "
        f"two-sided, alpha {plan.alpha:g}, power {plan.power:.0%}); {plan.n_sims} simulated "
        "panels per value; pre-period data only (nothing from the start on is read into the "
        "plan)."
    )
    print(plan.table().to_string(index=False))
    for r in plan.rows:
        if r.note and r.post_months == plan.post[0]:
            print(f"Cannot plan {r.area}: {r.note}")
    out = Path(args.out) if args.out else Path(args.output_root) / "plans" / cfg.slug
    csv, html = write_plan(plan, out)
    print(f"Plan written:   {csv}\n                {html}")
    if args.register:
        print(f"Registered:     {register_plan(plan)}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from .io.fetch import fetch_police

    paths = fetch_police(force=args.force, start=args.start, end=args.end, dest=Path(args.dest))
    print(f"{len(paths)} monthly file(s) in {Path(args.dest).resolve()}")
    return 0


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pilot-eval",
        description="Reproducible evaluation of place-based community-safety pilots.",
    )
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(  # SUPPRESS: 'pilot-eval --debug run' is not undone by the subcommand
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", parents=[debug], help="write the SYNTHETIC demo data set")
    d.add_argument("--out", default="data/demo", help="folder to write (default: data/demo)")
    d.add_argument("--seed", type=int, default=20240401)
    d.set_defaults(func=_cmd_demo)

    v = sub.add_parser(
        "validate", parents=[debug], help="check a pilot config and its data, print a summary"
    )
    v.add_argument("config", help="pilot YAML, e.g. pilots/demo-belvedere.yml")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("run", parents=[debug], help="evaluate a pilot and write reports/<slug>/")
    r.add_argument("config", help="pilot YAML, e.g. pilots/demo-belvedere.yml")
    r.add_argument("--output-root", default="reports")
    r.add_argument("--pdf", action="store_true", help="also print the report to report.pdf (A4)")
    r.add_argument("--notebook", default=None, help="notebook to run (default: the project's)")
    r.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="extra notebook parameter; unknown names are rejected",
    )
    r.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="send the placebo work of large panels (synthetic-control placebos, conformal "
        "grid) to the Dask scheduler at ADDRESS, e.g. tcp://127.0.0.1:8786; same numbers",
    )
    r.set_defaults(func=_cmd_run)

    ra = sub.add_parser(
        "run-all",
        parents=[debug],
        help="evaluate many pilots in parallel and write reports/index.html",
    )
    ra.add_argument("configs", nargs="+", help="pilot YAML files and/or folders of them")
    ra.add_argument("--output-root", default="reports")
    ra.add_argument(
        "--workers", type=_positive, default=None, help="worker processes (default: CPU count)"
    )
    ra.add_argument(
        "--scheduler", default=None, help="run on the Dask scheduler at this address instead"
    )
    ra.add_argument(
        "--dask-workers",
        type=_positive,
        default=None,
        help="run on a new local Dask cluster (127.0.0.1) with this many worker processes",
    )
    ra.set_defaults(func=_cmd_run_all)

    pl = sub.add_parser(
        "plan",
        parents=[debug],
        help="before a pilot starts: the detectable effect of each candidate area and window",
    )
    pl.add_argument("config", help="pilot YAML, e.g. pilots/demo-belvedere.yml")
    pl.add_argument(
        "--areas", nargs="+", default=None, help="candidate areas (default: every area)"
    )
    pl.add_argument(
        "--post",
        nargs="+",
        type=_positive,
        default=[6, 12, 18, 24],
        help="post-window lengths in months (default: 6 12 18 24)",
    )
    pl.add_argument(
        "--n-sims",
        type=_positive,
        default=200,
        help="simulated panels per value (default 200, as in the report)",
    )
    pl.add_argument("--output-root", default="reports")
    pl.add_argument("--out", default=None, help="folder for plan.csv and plan.html")
    pl.add_argument(
        "--register",
        action="store_true",
        help="also write <config stem>.plan.json beside the config (the registered plan)",
    )
    pl.set_defaults(func=_cmd_plan)

    f = sub.add_parser("fetch", help="download public data")
    fsub = f.add_subparsers(dest="what", required=True)
    fp = fsub.add_parser("police", parents=[debug], help="police.uk street-level crime archives")
    fp.add_argument("--force", required=True, help="force id, e.g. metropolitan")
    fp.add_argument("--from", dest="start", required=True, help="first month YYYY-MM")
    fp.add_argument("--to", dest="end", required=True, help="last month YYYY-MM")
    fp.add_argument("--dest", default="data/police-uk")
    fp.set_defaults(func=_cmd_fetch)

    return p


def _os_error(exc: OSError) -> str:
    name = exc.filename if exc.filename is not None else "a file"
    return (
        f"{name}: {exc.strerror or exc}. Check that the path exists and that you may read "
        "(or write) it."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command; user errors print one line (exit 2), ``--debug`` adds the traceback."""
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.func(args) or 0)
    except RunInterrupted as exc:
        from .report.run import silence_executor_until_exit

        silence_executor_until_exit()
        print(f"pilot-eval: stopped: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("pilot-eval: stopped (Ctrl-C); nothing was changed.", file=sys.stderr)
        return 130
    except PilotEvalError as exc:
        if debug:
            traceback.print_exc()
        print(f"pilot-eval: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:
        if debug:
            traceback.print_exc()
        print(f"pilot-eval: error: {_os_error(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:
        if debug:
            traceback.print_exc()
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"pilot-eval: internal error: {type(exc).__name__}: {first} (this is a bug in "
            "pilot-eval, not in your data: run again with --debug and report the traceback).",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
