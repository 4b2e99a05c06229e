"""Checks of the CLI contract for package test suites (pytest's ``capsys`` in, assertions out)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["exit_code", "one_line_error"]


def exit_code(main: Callable[[Sequence[str]], int], argv: Sequence[str]) -> int:
    """`main(argv)`'s exit code, whether it returns it or argparse exits with it before any handler runs."""
    try:
        return int(main(list(argv)) or 0)
    except SystemExit as stop:
        return int(stop.code or 0)


def one_line_error(capsys: Any, *words: str) -> str:
    """Assert that stderr holds exactly one line, no traceback, containing every one of `words`; return it."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    return err
