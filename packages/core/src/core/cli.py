"""Shared command-line options (``--seed``, ``--device``, ``--out``, ``--scale``) and the `core` CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "SCALES",
    "RunOptions",
    "add_run_options",
    "dispatch",
    "main",
    "package_cli",
    "positive_int",
    "run_options_from",
]

Scale = Literal["smoke", "full"]
SCALES: tuple[str, ...] = ("smoke", "full")


@dataclass(frozen=True)
class RunOptions:
    """What every experiment receives.

    Attributes:
        scale: "smoke" (minutes on 2 CPU cores) or "full" (the paper's budget).
        seed: the one seed the run derives all randomness from.
        out: folder for tables (JSON, markdown), plots and checkpoints.
        device: "auto", "cpu", "cuda", "cuda:N".
    """

    scale: Scale = "smoke"
    seed: int = 0
    out: Path = Path("runs")
    device: str = "auto"


def add_run_options(parser: argparse.ArgumentParser, *, default_out: str = "runs") -> argparse.ArgumentParser:
    """Add ``--scale``, ``--seed``, ``--device`` and ``--out`` to `parser`."""
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="smoke",
        help="smoke: minutes on 2 CPU cores; full: the paper's budget (default: smoke)",
    )
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(default_out),
        help=f"output folder for tables, plots, checkpoints (default: {default_out})",
    )
    return parser


def run_options_from(args: argparse.Namespace) -> RunOptions:
    """Build `RunOptions` from parsed arguments that `add_run_options` defined."""
    return RunOptions(scale=args.scale, seed=args.seed, out=Path(args.out), device=args.device)


def package_cli(distribution: str, description: str) -> tuple[argparse.ArgumentParser, Any]:
    """The top-level parser of a package's CLI (``--version`` included) and its sub-command set.

    Returns:
        ``(parser, commands)``; add sub-commands with ``commands.add_parser(...)`` and give each a
        ``handler`` default (``set_defaults(handler=fn)``, ``fn(args) -> int``), then call `dispatch`.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = f"{distribution} {version(distribution)}"
    except PackageNotFoundError:
        text = f"{distribution} (not installed)"
    parser = argparse.ArgumentParser(prog=distribution, description=description)
    parser.add_argument("--version", action="version", version=text)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, commands


def dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the chosen sub-command's handler, return its exit code.

    With no sub-command the help is printed. An `InputError` from a handler is printed as one
    line on stderr with exit code 2 (no traceback: it is the user's input, not a bug).
    """
    from core.errors import InputError

    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return int(handler(args) or 0)
    except InputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2


def _integer_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    return _integer_at_least(text, 0)


def positive_int(text: str) -> int:
    """An argparse ``type=`` for counts (steps, samples, pairs): an integer >= 1."""
    return _integer_at_least(text, 1)


def main(argv: Sequence[str] | None = None) -> int:
    """``core info``: versions of the core stack and what `reproduce` can run."""
    from importlib.metadata import version

    import torch

    from core.reproduce import registered_experiments

    parser = argparse.ArgumentParser(prog="core", description=__doc__)
    parser.add_argument("command", choices=["info"], nargs="?", default="info")
    parser.parse_args(argv)
    print(f"core {version('core')}, torch {torch.__version__}, cuda available: {torch.cuda.is_available()}")
    names = sorted(registered_experiments())
    print("registered experiments: " + (", ".join(names) if names else "(none)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
