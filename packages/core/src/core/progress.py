"""Progress reporting: a tqdm bar on a terminal, quiet periodic lines in CI and logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

from tqdm.auto import tqdm

__all__ = ["progress"]

T = TypeVar("T")


def progress(
    iterable: Iterable[T],
    desc: str = "",
    *,
    total: int | None = None,
    stream: TextIO | None = None,
    every_seconds: float = 30.0,
    disable: bool = False,
) -> Iterator[T]:
    """Iterate over `iterable`, reporting progress.

    On a TTY this is a tqdm bar. Elsewhere (CI, a log file) it prints a line such as
    ``train: 40/100 (40%) 12.3s`` at most every `every_seconds` and at every 10% step, and a final line.

    Args:
        iterable: what to iterate over.
        desc: a short label shown before the counts.
        total: number of items when `iterable` has no `len`.
        stream: where to write (default: stderr).
        every_seconds: minimum seconds between two non-TTY lines (10% steps always print).
        disable: report nothing.
    """
    out = stream if stream is not None else sys.stderr
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if disable:
        yield from iterable
        return
    if _is_terminal(out):
        yield from tqdm(iterable, desc=desc, total=total, file=out, dynamic_ncols=True)
        return
    yield from _periodic_lines(iterable, desc, total, out, every_seconds)


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _periodic_lines(
    iterable: Iterable[T], desc: str, total: int | None, out: TextIO, every_seconds: float
) -> Iterator[T]:
    start = last = time.perf_counter()
    last_decile = 0
    count = 0
    label = f"{desc}: " if desc else ""
    for item in iterable:
        yield item
        count += 1
        now = time.perf_counter()
        decile = (10 * count // total) if total else 0
        if decile > last_decile or now - last >= every_seconds:
            print(f"{label}{_counts(count, total)} {now - start:.1f}s", file=out, flush=True)
            last, last_decile = now, decile
    if count and last_decile < 10:
        print(f"{label}{_counts(count, total)} {time.perf_counter() - start:.1f}s done", file=out, flush=True)


def _counts(count: int, total: int | None) -> str:
    if total:
        return f"{count}/{total} ({100 * count // total}%)"
    return f"{count}"
