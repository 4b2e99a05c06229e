"""Timing shared by every benchmark: warm-up, several repeats, the median."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Timer", "TimingResult", "measure", "throughput"]


class Timer:
    """Context manager measuring wall seconds; synchronises CUDA so GPU work is counted.

    >>> with Timer() as t:
    ...     work()
    >>> t.seconds
    """

    def __init__(self, cuda_sync: bool = True) -> None:
        self.cuda_sync = cuda_sync
        self.seconds = float("nan")
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._sync()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sync()
        self.seconds = time.perf_counter() - self._start

    def _sync(self) -> None:
        torch = sys.modules.get("torch")  # only code that already uses torch can have CUDA work queued
        if self.cuda_sync and torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()


@dataclass(frozen=True)
class TimingResult:
    """Seconds per call: median, min, max over `repeats` (after `warmup` unmeasured calls)."""

    median: float
    minimum: float
    maximum: float
    repeats: int
    warmup: int
    last_value: Any = None

    def per_second(self, items: float) -> float:
        """Items processed per second at the median time, for `items` items per call."""
        return items / self.median if self.median > 0 else float("inf")


def measure(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> TimingResult:
    """Time `fn()`: `warmup` unmeasured calls, then `repeats` measured ones."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    value = None
    for _ in range(warmup):
        value = fn()
    samples = []
    for _ in range(repeats):
        with Timer() as timer:
            value = fn()
        samples.append(timer.seconds)
    return TimingResult(statistics.median(samples), min(samples), max(samples), repeats, warmup, value)


def throughput(fn: Callable[[], Any], items: float, *, repeats: int = 5, warmup: int = 1) -> float:
    """Items per second of `fn`, which processes `items` items per call (median of repeats)."""
    return measure(fn, repeats=repeats, warmup=warmup).per_second(items)
