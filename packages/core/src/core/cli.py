"""The CLI contract every package follows, and the `core` CLI.

Shared options, each validated when parsed: ``--seed`` (integer >= 0), ``--device`` (auto, cpu,
cuda, cuda:N, mps), ``--threads`` (integer >= 1), ``--out`` (always a folder), ``--scale``
(smoke|full) and ``--data`` (a folder of real data). `add_config_arguments` turns the fields of a
config dataclass into options whose defaults are read from the dataclass, so a CLI never carries a
copy of the defaults. `dispatch` runs a sub-command and turns every `InputError` (and every
argparse error) into one line on stderr with exit code 2.

Nothing here imports torch: ``<pkg> --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import types
import typing
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "SCALES",
    "ArgumentParser",
    "RunOptions",
    "add_config_arguments",
    "add_device_option",
    "add_out_option",
    "add_run_options",
    "add_scale_option",
    "add_seed_option",
    "add_threads_option",
    "config_from_args",
    "device_name",
    "dispatch",
    "existing_file",
    "main",
    "non_negative_int",
    "output_folder",
    "package_cli",
    "positive_float",
    "positive_int",
    "run_options_from",
    "seed_value",
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
        device: "auto", "cpu", "cuda", "cuda:N", "mps".
        threads: intra-op torch threads for the run (None: torch's default).
        only: names of the sub-experiments to run (empty: all of them).
        data: folder holding the experiment's real data (None: the package's default lookup).
        package: the distribution whose experiment runs (set by the dispatcher).
        command: the command line that started the run (for provenance).
        started: ISO time the run began (for provenance).
    """

    scale: Scale = "smoke"
    seed: int = 0
    out: Path = Path("runs")
    device: str = "auto"
    threads: int | None = None
    only: tuple[str, ...] = ()
    data: Path | None = None
    package: str = field(default="", compare=False)
    command: tuple[str, ...] = field(default=(), compare=False)
    started: str = field(default="", compare=False)
    _published: set[str] = field(default_factory=set, compare=False, repr=False)

    def publish(self, table: Any, *, quiet: bool = False) -> Path:
        """Save `table` (a `core.ResultTable`) under `out` now, with provenance, and print it.

        Experiments call this as soon as each table is computed, so a run that dies later keeps
        every table it finished. Returns the JSON path.
        """
        from core.provenance import provenance

        record = provenance(
            package=self.package or None,
            seed=self.seed,
            scale=self.scale,
            command=list(self.command) or None,
            started=self.started or None,
            data=table.data,
        )
        path = table.save(self.out, provenance=record)
        self._published.add(table.name)
        if not quiet:
            print(table.to_markdown(), flush=True)
            print(flush=True)
        return path

    def is_published(self, name: str) -> bool:
        """Whether a table of that name was already saved by `publish` in this run."""
        return name in self._published


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the workspace's error contract: one line on stderr, exit code 2."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse ``type=`` for an integer >= 0."""
    return _integer_at_least(text, 0)


def positive_int(text: str) -> int:
    """An argparse ``type=`` for counts (steps, samples, pairs): an integer >= 1."""
    return _integer_at_least(text, 1)


def positive_float(text: str) -> float:
    """An argparse ``type=`` for a finite float > 0 (rates, tolerances, budgets)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def seed_value(text: str) -> int:
    """An argparse ``type=`` for a seed: an integer in [0, 2**32)."""
    value = _integer_at_least(text, 0)
    if value >= 2**32:
        raise argparse.ArgumentTypeError(f"seed must be < 2**32, got {value}")
    return value


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def device_name(text: str) -> str:
    """An argparse ``type=`` for a device name; availability is checked by `core.pick_device`."""
    if not _DEVICE.fullmatch(text.strip().lower()):
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (auto, cpu, cuda, cuda:N or mps)")
    return text.strip().lower()


def output_folder(text: str) -> Path:
    """An argparse ``type=`` for ``--out``: a folder (created on first write), never a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"--out must be a folder, but {text!r} is a file")
    return path


def existing_file(text: str) -> Path:
    """An argparse ``type=`` for an input file that must exist (a folder is refused by name)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, expected a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"file not found: {text!r}")
    return path


def add_seed_option(parser: argparse.ArgumentParser, default: int = 0) -> None:
    parser.add_argument(
        "--seed", type=seed_value, default=default, help=f"random seed >= 0 (default: {default})"
    )


def add_device_option(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    parser.add_argument(
        "--device",
        type=device_name,
        default=default,
        help=f"auto, cpu, cuda, cuda:N or mps (default: {default})",
    )


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="intra-op torch CPU threads (default: torch's choice)",
    )


def add_out_option(
    parser: argparse.ArgumentParser, default: str = "runs", what: str = "tables, plots, checkpoints"
) -> None:
    parser.add_argument(
        "--out",
        type=output_folder,
        default=Path(default),
        help=f"output folder for {what} (default: {default})",
    )


def add_scale_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="smoke",
        help="smoke: minutes on 2 CPU cores; full: the paper's budget (default: smoke)",
    )


def add_run_options(parser: argparse.ArgumentParser, *, default_out: str = "runs") -> argparse.ArgumentParser:
    """Add the experiment options: ``--scale --seed --device --threads --out --only --data``."""
    add_scale_option(parser)
    add_seed_option(parser)
    add_device_option(parser)
    add_threads_option(parser)
    add_out_option(parser, default_out)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this sub-experiment (repeatable; default: all)",
    )
    parser.add_argument("--data", type=Path, default=None, help="folder of the experiment's real data")
    return parser


def run_options_from(args: argparse.Namespace, *, package: str = "") -> RunOptions:
    """Build `RunOptions` from parsed arguments that `add_run_options` defined."""
    only = tuple(name for entry in getattr(args, "only", []) or [] for name in entry.split(",") if name)
    return RunOptions(
        scale=args.scale,
        seed=args.seed,
        out=Path(args.out),
        device=args.device,
        threads=getattr(args, "threads", None),
        only=only,
        data=getattr(args, "data", None),
        package=package,
        command=tuple(sys.argv),
    )


def add_config_arguments(
    parser: argparse.ArgumentParser,
    config_type: type,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    prefix: str = "",
    help: dict[str, str] | None = None,
) -> None:
    """Add one ``--field-name`` option per field of the dataclass `config_type`.

    Defaults come from the dataclass (never copied into the CLI); types from its annotations
    (int, float, str, bool as ``--x/--no-x``, Literal as choices, ``tuple[int, ...]`` as a list).
    A field named ``seed`` is validated like ``--seed``; a field's ``metadata={"cli_type": positive_int}``
    sets its argparse type. Read them back with `config_from_args`.

    Args:
        include: fields to expose (default: all that have a simple type).
        exclude: fields to leave out.
        prefix: prepended to option names (``prefix="model-"`` gives ``--model-hidden``).
        help: help text per field name.
    """
    hints = typing.get_type_hints(config_type)
    defaults = config_type()
    for item in dataclasses.fields(config_type):
        if item.name in exclude or (include is not None and item.name not in include):
            continue
        spec = _argument_spec(hints.get(item.name))
        if spec is not None and (item.name == "seed" or "cli_type" in item.metadata):
            spec["type"] = item.metadata.get("cli_type", seed_value)  # a seed field is validated like --seed
        if spec is None:
            if include is not None:
                raise TypeError(f"{config_type.__name__}.{item.name}: no CLI form for {hints.get(item.name)}")
            continue
        default = getattr(defaults, item.name)
        text = (help or {}).get(item.name, item.metadata.get("help", item.name.replace("_", " ")))
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        option = "--" + (prefix + item.name).replace("_", "-")
        parser.add_argument(
            option,
            dest=(prefix + item.name).replace("-", "_"),
            default=default,
            help=f"{text} (default: {shown})",
            **spec,
        )


def config_from_args(
    config_type: type, args: argparse.Namespace, *, prefix: str = "", **overrides: Any
) -> Any:
    """An instance of `config_type` from the options `add_config_arguments` added, plus `overrides`.

    Raises:
        InputError: when the dataclass refuses a value (its ``__post_init__`` checks).
    """
    values = {}
    for item in dataclasses.fields(config_type):
        dest = (prefix + item.name).replace("-", "_")
        if hasattr(args, dest):
            value = getattr(args, dest)
            values[item.name] = tuple(value) if isinstance(value, list) else value
    values.update(overrides)
    return config_type(**values)


def _argument_spec(hint: Any) -> dict[str, Any] | None:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _argument_spec(args[0]) if len(args) == 1 else None
    if hint is bool:
        return {"action": argparse.BooleanOptionalAction}
    if hint is int:
        return {"type": int}
    if hint is float:
        return {"type": float}
    if hint is str:
        return {"type": str}
    if origin is Literal:
        choices = typing.get_args(hint)
        return {"choices": choices, "type": type(choices[0])}
    if origin is tuple:
        args = typing.get_args(hint)
        if args and args[0] in (int, float, str) and all(a in (args[0], Ellipsis) for a in args):
            return {"type": args[0], "nargs": "+"}
    return None


def package_cli(distribution: str, description: str) -> tuple[argparse.ArgumentParser, Any]:
    """The top-level parser of a package's CLI (``--version`` included) and its sub-command set.

    Returns:
        ``(parser, commands)``; add sub-commands with ``commands.add_parser(...)`` and give each a
        ``handler`` default (``set_defaults(handler=fn)``, ``fn(args) -> int``), then call `dispatch`.
        Sub-parsers share the one-line error contract of `ArgumentParser`.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = f"{distribution} {version(distribution)}"
    except PackageNotFoundError:
        text = f"{distribution} (not installed)"
    parser = ArgumentParser(prog=distribution, description=description)
    parser.add_argument("--version", action="version", version=text)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    return parser, commands


def dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the chosen sub-command's handler, return its exit code.

    With no sub-command the help is printed. ``--threads``, when the command has it and it is set,
    applies to the handler's run. An `InputError` from a handler is printed as one line on stderr
    with exit code 2 (no traceback: it is the user's input, not a bug).
    """
    from core.errors import InputError

    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        with _threads(getattr(args, "threads", None)):
            return int(handler(args) or 0)
    except InputError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2


def _threads(count: int | None) -> Any:
    if count is None:
        return nullcontext()
    from core.device import torch_threads

    return torch_threads(count)


def main(argv: Sequence[str] | None = None) -> int:
    """``core info``: versions of the core stack and what `reproduce` can run."""
    from core.provenance import hardware, versions
    from core.reproduce import registered_experiments

    parser = ArgumentParser(prog="core", description="core: the shared layer of the workspace")
    parser.add_argument("command", choices=["info"], nargs="?", default="info")
    parser.parse_args(argv)
    import torch

    stack = ", ".join(f"{name} {value}" for name, value in versions().items())
    print(f"{stack}; cuda available: {torch.cuda.is_available()}; {hardware()['cpu']}")
    names = sorted(registered_experiments())
    print("registered experiments: " + (", ".join(names) if names else "(none)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
