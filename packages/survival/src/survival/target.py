"""Survival targets: validation of event indicators and times, scikit-survival structured arrays.

Targets are scikit-survival structured arrays (``Surv.from_arrays(event, time)``): a boolean event
field followed by a float time field. The one rule for event codes, used by models and metrics
alike: 0/False = right-censored, 1/True = event observed; anything else is refused.
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError

__all__ = ["check_event", "check_time", "event_time", "make_target"]


def check_time(time: object, *, name: str = "time") -> np.ndarray:
    """(n,) finite, non-negative float times.

    Raises:
        InputError: a non-numeric, missing, infinite or negative time, naming the row.
    """
    try:
        tm = np.asarray(time).astype(float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError("times must be numbers", item=f"column '{name}'") from exc
    bad = np.flatnonzero(~np.isfinite(tm))
    if bad.size:
        raise InputError(
            "missing or infinite survival time",
            item=f"row {bad[0]}, column '{name}' = {tm[bad[0]]}",
            expected="a finite time >= 0",
        )
    bad = np.flatnonzero(tm < 0)
    if bad.size:
        raise InputError(
            "negative survival time",
            item=f"row {bad[0]}, column '{name}' = {tm[bad[0]]}",
            expected="time >= 0",
        )
    return tm


def check_event(event: object, *, name: str = "event") -> np.ndarray:
    """(n,) bool event indicators from 0/1 or bool values.

    Raises:
        InputError: any value other than 0, 1, True, False (e.g. a competing-risk code 2), naming the row.
    """
    ev = np.asarray(event).reshape(-1)
    if ev.dtype == bool:
        return ev.copy()
    try:
        as_float = ev.astype(float)
    except (TypeError, ValueError):
        import pandas as pd

        as_float = pd.to_numeric(pd.Series(ev), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isin(as_float, (0.0, 1.0)))
    if bad.size:
        raise InputError(
            "event indicator is not 0/1",
            item=f"row {bad[0]}, column '{name}' = {ev[bad[0]]!r}",
            expected="0 (censored) or 1 (event observed)",
        )
    return as_float.astype(bool)


def make_target(
    event: np.ndarray, time: np.ndarray, *, event_name: str = "event", time_name: str = "time"
) -> np.ndarray:
    """Validate event indicators and times and return a scikit-survival structured array.

    Args:
        event: (n,) 0/1 or bool, 1 = the event was observed, 0 = right-censored.
        time: (n,) non-negative event or censoring times.
        event_name, time_name: column names used in error messages and as field names.

    Raises:
        InputError: NaN or negative times, event values other than 0/1, no event at all; the
            message names the column and the first offending row.
    """
    ev, tm = np.asarray(event), np.asarray(time)
    if ev.shape != tm.shape or ev.ndim != 1:
        raise InputError(
            "event and time must be 1-d arrays of the same length",
            item=f"{event_name}: shape {ev.shape}, {time_name}: shape {tm.shape}",
        )
    if ev.size == 0:
        raise InputError("no rows", item=f"columns '{event_name}', '{time_name}'")
    tm = check_time(tm, name=time_name)
    ev = check_event(ev, name=event_name)
    if not ev.any():
        raise InputError(
            "no events at all: every row is censored",
            item=f"column '{event_name}'",
            expected="at least one row with event 1",
        )
    target = np.empty(ev.size, dtype=[(event_name, bool), (time_name, float)])
    target[event_name], target[time_name] = ev, tm
    return target


def event_time(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a structured survival target into ``(event: bool (n,), time: float (n,))``.

    The first field is the event indicator and the second the time, as in scikit-survival.

    Raises:
        InputError: when `y` is not a two-field structured array or fails `make_target`'s checks.
    """
    arr = np.asarray(y)
    names = arr.dtype.names
    if names is None or len(names) != 2:
        raise InputError(
            "survival target must be a structured array (event, time)",
            item=f"dtype {arr.dtype}",
            expected="sksurv.util.Surv.from_arrays(event, time)",
        )
    checked = make_target(arr[names[0]], arr[names[1]], event_name=names[0], time_name=names[1])
    return checked[names[0]].astype(bool), checked[names[1]].astype(float)
