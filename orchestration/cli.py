"""The ``pingan`` command: one entry point, one subcommand per job.

The CLI lives in ``orchestration`` because it is the top of the flow: it calls
ingest, dbt and the Dagster job, never the other way round. Subcommand
implementations are imported lazily so ``pingan --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from contracts.settings import load_settings


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.cli import run_ingest

    return run_ingest(args.paths, load_settings(args.db))


def _cmd_sample(args: argparse.Namespace) -> int:
    from simulator.cli import run_sample

    return run_sample(args)


def _cmd_build(args: argparse.Namespace) -> int:
    from orchestration.defs.dbt.build import run_build

    return run_build(load_settings(args.db), full_refresh=args.full_refresh)


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestration.run import run_pipeline

    return run_pipeline(load_settings(args.db), full_refresh=args.full_refresh)


def _cmd_notices(args: argparse.Namespace) -> int:
    from orchestration.defs.notices.command import run_notices

    return run_notices(args.month, args.out)


def _cmd_report(args: argparse.Namespace) -> int:
    from orchestration.defs.bulletin.command import run_report

    return run_report(args.month, args.quarter, args.out)


def _cmd_serve(args: argparse.Namespace) -> int:
    from dashboards.serve import serve

    return serve(port=args.port, settings=load_settings())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingan",
        description="Pingan (平安): the data warehouse of a city's social-governance command centre.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str, help_: str, handler: Callable[[argparse.Namespace], int]
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    p = add(
        "ingest",
        "load export files into the warehouse's raw tables, recording every file and row",
        _cmd_ingest,
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="export files or folders (searched recursively)"
    )
    p.add_argument(
        "--db", metavar="FILE", help="warehouse file (default: $PINGAN_DATA_DIR/warehouse.duckdb)"
    )

    p = add(
        "sample",
        "generate a synthetic city's export files, with the group-rental truth planted",
        _cmd_sample,
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: $PINGAN_DATA_DIR); files go to DIR/landing, truth to DIR/truth",
    )
    p.add_argument(
        "--scale",
        default="demo",
        help="demo | city | N (a number: persons in thousands scale linearly)",
    )
    p.add_argument(
        "--months",
        type=int,
        default=12,
        help="months of activity, ending with the last full month (default 12)",
    )
    p.add_argument(
        "--seed", type=int, default=20261001, help="random seed; the same seed gives the same bytes"
    )
    p.add_argument(
        "--end", metavar="YYYY-MM", help="last month of activity (default: last full month)"
    )
    p.add_argument(
        "--world",
        type=int,
        metavar="N",
        help="world of data-generating assumptions (default: derived from the seed); "
        "written to DIR/truth/world.json",
    )
    p.add_argument(
        "--world-file",
        metavar="JSON",
        help='a world with overrides: {"world": N, "overrides": {topic: {key: value}}} '
        "(keys in simulator/world.py)",
    )

    full_refresh_help = (
        "rebuild the incremental models from all raw rows (by default only the keys "
        "delivered since the last build are rebuilt)"
    )
    p = add("build", "run dbt build: staging, intermediate and marts, with all tests", _cmd_build)
    p.add_argument("--db", metavar="FILE", help="warehouse file")
    p.add_argument("--full-refresh", action="store_true", help=full_refresh_help)

    p = add(
        "run",
        "run the whole pipeline (the Dagster job): ingest new files, build, check, publish",
        _cmd_run,
    )
    p.add_argument("--db", metavar="FILE", help="warehouse file")
    p.add_argument("--full-refresh", action="store_true", help=full_refresh_help)

    p = add(
        "notices",
        "write a month's numbered notices (提示单) as .docx and .pdf from the published snapshot",
        _cmd_notices,
    )
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="month the notices are about")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: $PINGAN_DATA_DIR/notices/YYYY-MM)"
    )

    p = add(
        "report",
        "write the monthly bulletin (月度通报) or the quarterly one (季度通报) as PDF "
        "from the published snapshot",
        _cmd_report,
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", metavar="YYYY-MM", help="month of the monthly bulletin")
    which.add_argument("--quarter", metavar="YYYY-Qn", help="quarter of the quarterly bulletin")
    p.add_argument(
        "--out", metavar="DIR", help="output folder (default: $PINGAN_DATA_DIR/bulletins)"
    )

    p = add("serve", "serve the dashboards on 127.0.0.1", _cmd_serve)
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
