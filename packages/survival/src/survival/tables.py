"""User tables: a CSV file or a DataFrame split into features and a validated survival target."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import InputError
from survival.preprocess import check_numeric_columns
from survival.target import make_target

__all__ = ["constant_columns", "from_csv", "from_dataframe"]

_log = logging.getLogger("survival")


def constant_columns(X: pd.DataFrame) -> list[str]:
    """Names of the columns with at most one distinct non-missing value."""
    return [column for column in X.columns if X[column].dropna().nunique() <= 1]


def from_dataframe(df: pd.DataFrame, time_col: str, event_col: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Split a user table into features and a validated target.

    A constant feature column carries no information: it is dropped, and the drop is logged
    (logger ``"survival"``, level WARNING). A numeric column with a text cell is refused rather
    than read as a categorical with one level per number.

    Args:
        df: one row per patient; all columns except `time_col` and `event_col` are features.
        time_col: name of the column holding event/censoring times (>= 0).
        event_col: name of the column holding 1 (event) / 0 (censored).

    Returns:
        ``(X, y)``: the feature table and the structured target.

    Raises:
        InputError: a missing column, a bad time or event (row and column named), no events, a
            text cell in a numeric column (row and column named), no informative feature column.
    """
    for column in (time_col, event_col):
        if column not in df.columns:
            raise InputError("column not found", item=f"'{column}'", expected=f"one of {list(df.columns)}")
    y = make_target(
        df[event_col].to_numpy(), df[time_col].to_numpy(), event_name=event_col, time_name=time_col
    )
    X = df.drop(columns=[time_col, event_col]).reset_index(drop=True)
    if X.shape[1] == 0:
        raise InputError("no feature columns", item=f"columns {list(df.columns)}")
    check_numeric_columns(X)
    constant = constant_columns(X)
    if len(constant) == X.shape[1]:
        raise InputError(
            "every feature column is constant", item=f"columns {constant}", expected="an informative column"
        )
    for column in constant:
        _log.warning("feature column '%s' is constant: dropped", column)
    return X.drop(columns=constant), y


def from_csv(
    path: str | os.PathLike[str], time_col: str = "time", event_col: str = "event"
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a CSV file with a header row; see `from_dataframe`.

    Raises:
        InputError: the file is missing or unreadable, or its contents fail `from_dataframe`.
    """
    frame = read_csv(path)
    try:
        return from_dataframe(frame, time_col, event_col)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV file with a header row as a DataFrame.

    Raises:
        InputError: the file is missing, a folder, empty or not parseable.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("CSV file not found", item=str(source))
    try:
        return pd.read_csv(source)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError("unreadable CSV file", item=f"{source}: {exc}") from exc
