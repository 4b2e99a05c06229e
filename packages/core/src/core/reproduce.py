"""``reproduce <package>``: run any package's headline experiment through one entry-point group.

A domain package registers its experiment in its ``pyproject.toml``::

    [project.entry-points."core.reproduce"]
    survival = "survival.reproduce:reproduce"

The target is either one function ``(RunOptions) -> list[ResultTable]`` or a mapping from
sub-experiment names to such functions (``reproduce robust --only attacks`` runs one, no
``--only`` runs all, in the mapping's order). An experiment calls ``options.publish(table)`` as
soon as a table is computed, so a late crash loses nothing; tables it returns without publishing
are saved at the end. Every JSON file carries a provenance block (versions, commit, seed, scale,
command, times, hardware, data). Bad input ends in one line on stderr and exit code 2, and leaves
no empty output folder behind.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from core.cli import ArgumentParser, RunOptions, add_run_options, run_options_from
from core.errors import InputError
from core.provenance import now_iso

__all__ = [
    "ENTRY_POINT_GROUP",
    "Experiment",
    "add_reproduce_command",
    "main",
    "registered_experiments",
    "run_and_report",
    "run_experiment",
    "sub_experiments",
]

ENTRY_POINT_GROUP = "core.reproduce"

Experiment = Callable[[RunOptions], list[Any]]


def registered_experiments() -> dict[str, object]:
    """Entry points of the group, by package name (not loaded yet)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def sub_experiments(target: Experiment | Mapping[str, Experiment]) -> dict[str, Experiment] | None:
    """The named sub-experiments of a registered target, or None when it is a single function."""
    if isinstance(target, Mapping):
        return dict(target)
    return None


def run_experiment(package: str, options: RunOptions) -> list[Any]:
    """Load, seed and run `package`'s experiment; save its tables under ``options.out/<package>``.

    Raises:
        KeyError: when no package of that name is registered.
        InputError: an unknown ``--only`` name, or bad input found by the experiment. An output
            folder this call created is removed again if it is still empty.
    """
    known = registered_experiments()
    if package not in known:
        raise KeyError(package)
    target = known[package].load()  # type: ignore[attr-defined]
    chosen = _choose(package, target, options.only)
    out = options.out / package
    created = _missing_folders(out)
    options = replace(
        options,
        out=out,
        package=package,
        started=options.started or now_iso(),
        command=options.command or tuple(sys.argv),
    )
    out.mkdir(parents=True, exist_ok=True)
    try:
        from core.seeding import seed_everything

        seed_everything(options.seed)
        tables: list[Any] = []
        with _threads(options.threads):
            for experiment in chosen:
                for table in experiment(options):
                    if not options.is_published(table.name):
                        options.publish(table)
                    tables.append(table)
    except InputError:
        for folder in created:  # deepest first: leave no empty folder this run made
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return tables


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _choose(package: str, target: Any, only: Sequence[str]) -> list[Experiment]:
    named = sub_experiments(target)
    if named is None:
        if only:
            raise InputError(f"{package} has a single experiment; --only does not apply", item=",".join(only))
        return [target]
    unknown = [name for name in only if name not in named]
    if unknown:
        raise InputError(
            f"{package} has no sub-experiment {unknown[0]!r}", item=unknown[0], expected=", ".join(named)
        )
    return [named[name] for name in (only or named)]


def _threads(count: int | None) -> Any:
    if count is None:
        return nullcontext()
    from core.device import torch_threads

    return torch_threads(count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
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
        print(
            f"reproduce: error: name a package; registered: {', '.join(known) or '(none)'}", file=sys.stderr
        )
        return 2
    if args.package not in known:
        print(
            f"reproduce: error: unknown package {args.package!r}; registered: {', '.join(known) or '(none)'}",
            file=sys.stderr,
        )
        return 2
    options = run_options_from(args, package=args.package)
    if argv is not None:
        options = replace(options, command=("reproduce", *argv))
    return run_and_report(args.package, options)


def run_and_report(package: str, options: RunOptions) -> int:
    """Run `package`'s experiment, printing each table as it is published; exit code 0, or 2 on bad input."""
    start = time.perf_counter()
    try:
        run_experiment(package, replace(options, started=options.started or now_iso()))
    except InputError as exc:
        print(f"reproduce {package}: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{package} ({options.scale}, seed {options.seed}) finished in "
        f"{time.perf_counter() - start:.1f}s; results in {Path(options.out) / package}"
    )
    return 0


def add_reproduce_command(commands: Any, package: str) -> None:
    """Add ``<package> reproduce [--scale --seed --device --threads --out --only --data]`` to a package CLI."""
    sub = commands.add_parser(
        "reproduce", help="run the headline experiment (tables, JSON, plots under --out)"
    )
    add_run_options(sub)
    sub.set_defaults(handler=lambda args: run_and_report(package, run_options_from(args, package=package)))


if __name__ == "__main__":
    sys.exit(main())
