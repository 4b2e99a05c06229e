"""``reproduce <package>``: run any package's headline experiment through one entry-point group.

A domain package registers its experiment in its ``pyproject.toml``::

    [project.entry-points."core.reproduce"]
    survival = "survival.reproduce:reproduce"

The function takes a `core.cli.RunOptions` and returns a list of `core.results.ResultTable`.
The dispatcher seeds the run, prints every table as markdown and saves it as JSON (and markdown)
under ``--out/<package>/``; the experiment writes its own plots into ``options.out``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib.metadata import entry_points
from typing import Any

from core.cli import RunOptions, add_run_options, run_options_from
from core.results import ResultTable
from core.seeding import seed_everything

__all__ = [
    "ENTRY_POINT_GROUP",
    "Experiment",
    "add_reproduce_command",
    "main",
    "registered_experiments",
    "run_and_report",
    "run_experiment",
]

ENTRY_POINT_GROUP = "core.reproduce"

Experiment = Callable[[RunOptions], list[ResultTable]]


def registered_experiments() -> dict[str, object]:
    """Entry points of the group, by package name (not loaded yet)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def run_experiment(package: str, options: RunOptions) -> list[ResultTable]:
    """Load, seed and run `package`'s experiment; save its tables under ``options.out``.

    Raises:
        KeyError: when no package of that name is registered (message lists the known ones).
    """
    known = registered_experiments()
    if package not in known:
        raise KeyError(package)
    experiment: Experiment = known[package].load()  # type: ignore[attr-defined]
    options = replace(options, out=options.out / package)
    options.out.mkdir(parents=True, exist_ok=True)
    seed_everything(options.seed)
    tables = experiment(options)
    for table in tables:
        table.save(options.out)
    return tables


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reproduce",
        description="Run a package's headline experiment: prints result tables, writes JSON and plots under --out.",
    )
    parser.add_argument("package", nargs="?", help="package whose experiment to run (see --list)")
    parser.add_argument("--list", action="store_true", help="list the registered experiments and exit")
    add_run_options(parser)
    args = parser.parse_args(argv)
    known = sorted(registered_experiments())
    if args.list:
        for name in known:
            print(name)
        if not known:
            print("(no experiments registered)", file=sys.stderr)
        return 0
    if not args.package:
        parser.print_usage(sys.stderr)
        print(f"reproduce: name a package; registered: {', '.join(known) or '(none)'}", file=sys.stderr)
        return 2
    if args.package not in known:
        print(
            f"reproduce: unknown package {args.package!r}; registered: {', '.join(known) or '(none)'}",
            file=sys.stderr,
        )
        return 2
    return run_and_report(args.package, run_options_from(args))


def run_and_report(package: str, options: RunOptions) -> int:
    """Run `package`'s experiment, print its tables and where they were written; exit code 0."""
    start = time.perf_counter()
    tables = run_experiment(package, options)
    for table in tables:
        print(table.to_markdown())
        print()
    print(
        f"{package} ({options.scale}, seed {options.seed}) finished in "
        f"{time.perf_counter() - start:.1f}s; results in {options.out / package}"
    )
    return 0


def add_reproduce_command(commands: Any, package: str) -> None:
    """Add ``<package> reproduce [--scale --seed --device --out]`` to a package CLI (see `core.cli.package_cli`)."""
    sub = commands.add_parser(
        "reproduce", help="run the headline experiment (tables, JSON, plots under --out)"
    )
    add_run_options(sub)
    sub.set_defaults(handler=lambda args: run_and_report(package, run_options_from(args)))


if __name__ == "__main__":
    sys.exit(main())
