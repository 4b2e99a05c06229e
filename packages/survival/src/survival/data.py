"""Survival data: the bundled real datasets, user tables, target validation and preprocessing.

Targets are scikit-survival structured arrays (``Surv.from_arrays(event, time)``): a boolean event
field followed by a float time field. Features go through `Preprocessor`, fitted on training rows
only: categoricals are one-hot encoded, missing values imputed with training medians (numeric) or
modes (categorical), numeric columns standardised; what it did is kept in ``report_``.

The real datasets are read from the data files that ship inside the scikit-survival and lifelines
wheels (no network); see `DATASETS` for their sources.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sksurv.util import Surv

from core.errors import InputError

__all__ = [
    "DATASETS",
    "Preprocessor",
    "SurvivalDataset",
    "event_time",
    "from_csv",
    "from_dataframe",
    "load_dataset",
    "make_target",
    "simulate_exponential",
]


@dataclass(frozen=True)
class SurvivalDataset:
    """A dataset: raw features, the structured target and where it came from.

    Attributes:
        name: registry name (``"whas500"``).
        X: (n, p) raw features, categoricals as pandas ``category``/object columns.
        y: (n,) structured array (event: bool, time: float).
        source: where the data ship from and the study they describe.
        notes: cleaning done at load time (dropped identifier or outcome-leaking columns).
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


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
    ev = np.asarray(event)
    tm = np.asarray(time)
    if ev.shape != tm.shape or ev.ndim != 1:
        raise InputError(
            "event and time must be 1-d arrays of the same length",
            item=f"{event_name}: shape {ev.shape}, {time_name}: shape {tm.shape}",
        )
    if ev.size == 0:
        raise InputError("no rows", item=f"columns '{event_name}', '{time_name}'")
    try:
        tm = tm.astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError("times must be numbers", item=f"column '{time_name}'") from exc
    bad = np.flatnonzero(~np.isfinite(tm))
    if bad.size:
        raise InputError(
            "missing or infinite survival time",
            item=f"row {bad[0]}, column '{time_name}' = {tm[bad[0]]}",
            expected="a finite time >= 0",
        )
    bad = np.flatnonzero(tm < 0)
    if bad.size:
        raise InputError(
            "negative survival time",
            item=f"row {bad[0]}, column '{time_name}' = {tm[bad[0]]}",
            expected="time >= 0",
        )
    ev_float = pd.to_numeric(pd.Series(ev), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isin(ev_float, (0.0, 1.0)))
    if bad.size:
        raise InputError(
            "event indicator is not 0/1",
            item=f"row {bad[0]}, column '{event_name}' = {ev[bad[0]]!r}",
            expected="0 (censored) or 1 (event observed)",
        )
    if not ev_float.any():
        raise InputError(
            "no events at all: every row is censored",
            item=f"column '{event_name}'",
            expected="at least one row with event 1",
        )
    return Surv.from_arrays(event=ev_float.astype(bool), time=tm, name_event=event_name, name_time=time_name)


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


def check_features(X: pd.DataFrame) -> None:
    """Refuse a feature table with a constant column (it carries no information and breaks scaling).

    Raises:
        InputError: naming the first constant column.
    """
    for column in X.columns:
        values = X[column].dropna()
        if values.nunique() <= 1:
            raise InputError(
                "constant feature column",
                item=f"column '{column}' (single value {values.iloc[0]!r})"
                if len(values)
                else f"column '{column}' (all values missing)",
                expected="drop the column or give it more than one value",
            )


def from_dataframe(df: pd.DataFrame, time_col: str, event_col: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Split a user table into features and a validated target.

    Args:
        df: one row per patient; all columns except `time_col` and `event_col` are features.
        time_col: name of the column holding event/censoring times (>= 0).
        event_col: name of the column holding 1 (event) / 0 (censored).

    Returns:
        ``(X, y)``: the feature table and the structured target.

    Raises:
        InputError: a missing column, a bad time or event (row and column named), no events,
            a constant feature column.
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
    check_features(X)
    return X, y


def from_csv(
    path: str | os.PathLike[str], time_col: str = "time", event_col: str = "event"
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a CSV file with a header row; see `from_dataframe`.

    Raises:
        InputError: the file is missing or unreadable, or its contents fail `from_dataframe`.
    """
    source = Path(path)
    if not source.is_file():
        raise InputError("CSV file not found", item=str(source))
    try:
        df = pd.read_csv(source)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError("unreadable CSV file", item=f"{source}: {exc}") from exc
    try:
        return from_dataframe(df, time_col, event_col)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc


def _sksurv(
    loader_name: str, drop: tuple[str, ...] = ()
) -> Callable[[], tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]]:
    def load() -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
        from sksurv import datasets

        X, y = getattr(datasets, loader_name)()
        names = y.dtype.names
        target = make_target(y[names[0]], y[names[1]])
        notes = tuple(f"dropped column '{c}'" for c in drop)
        return X.drop(columns=list(drop)).reset_index(drop=True), target, notes

    return load


def _lifelines(
    loader_name: str, time_col: str, event_col: str, drop: tuple[str, ...] = ()
) -> Callable[[], tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]]:
    def load() -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
        from lifelines import datasets

        df = getattr(datasets, loader_name)()
        target = make_target(df[event_col].to_numpy(), df[time_col].to_numpy())
        X = df.drop(columns=[time_col, event_col, *drop]).reset_index(drop=True)
        notes = tuple(f"dropped column '{c}'" for c in drop)
        return X, target, notes

    return load


# name -> (loader, source description)
DATASETS: dict[str, tuple[Callable[[], tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]], str]] = {
    "whas500": (
        _sksurv("load_whas500"),
        "Worcester Heart Attack Study, 500 patients (Hosmer, Lemeshow & May 2008), from scikit-survival",
    ),
    "gbsg2": (
        _sksurv("load_gbsg2"),
        "German Breast Cancer Study Group 2, 686 patients (Schumacher et al. 1994), from scikit-survival",
    ),
    "veterans": (
        _sksurv("load_veterans_lung_cancer"),
        "Veterans' Administration lung cancer trial, 137 patients (Kalbfleisch & Prentice 2002), from scikit-survival",
    ),
    "aids": (
        _sksurv("load_aids"),
        "AIDS Clinical Trials Group 320, 1151 patients (Hammer et al. 1997), from scikit-survival",
    ),
    "flchain": (
        _sksurv("load_flchain", drop=("chapter",)),
        "Serum free light chain cohort, 7874 subjects (Dispenzieri et al. 2012), from scikit-survival; 'chapter' (cause of death) dropped: it leaks the outcome",
    ),
    "breast_cancer": (
        _sksurv("load_breast_cancer"),
        "Breast cancer gene expression, 198 patients, 76 genes (Desmedt et al. 2007), from scikit-survival",
    ),
    "rossi": (
        _lifelines("load_rossi", "week", "arrest"),
        "Recidivism of 432 released prisoners (Rossi et al. 1980), from lifelines",
    ),
    "lung": (
        _lifelines("load_lung", "time", "status", drop=("inst",)),
        "NCCTG advanced lung cancer, 228 patients (Loprinzi et al. 1994), from lifelines; 'inst' (institution id) dropped",
    ),
}


def load_dataset(name: str) -> SurvivalDataset:
    """Load one of the bundled real datasets by name (see `DATASETS`).

    Raises:
        InputError: unknown name (the message lists the known ones).
    """
    if name not in DATASETS:
        raise InputError("unknown dataset", item=repr(name), expected=f"one of {sorted(DATASETS)}")
    loader, source = DATASETS[name]
    X, y, notes = loader()
    return SurvivalDataset(name=name, X=X, y=y, source=source, notes=notes)


class Preprocessor(TransformerMixin, BaseEstimator):
    """Turn a raw feature table into a float matrix using training statistics only.

    Categorical (``category``, ``object``, ``bool``) columns are one-hot encoded with one column
    per training level after the first (unseen test levels encode as all zeros); missing values
    are imputed with the training median (numeric) or mode (categorical); numeric columns are
    standardised with the training mean and standard deviation. Columns that are constant in the
    training rows are dropped (this happens to rare levels inside a cross-validation fold).

    Attributes (after fit):
        feature_names_: names of the output columns.
        report_: one line per action taken (imputations, encodings, dropped columns).
    """

    def __init__(self, standardise: bool = True) -> None:
        self.standardise = standardise

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> Preprocessor:
        frame = _as_frame(X)
        self.columns_ = list(frame.columns)
        self.categorical_: dict[str, list[object]] = {}
        self.fill_: dict[str, object] = {}
        self.report_: list[str] = []
        for column in self.columns_:
            values = frame[column]
            if _is_categorical(values):
                observed = values.dropna()
                levels = sorted(observed.unique().tolist(), key=str)
                self.categorical_[column] = levels
                if values.isna().any():
                    mode = observed.mode().iloc[0] if len(observed) else levels[0]
                    self.fill_[column] = mode
                    self.report_.append(
                        f"'{column}': {int(values.isna().sum())} missing imputed with mode {mode!r}"
                    )
                self.report_.append(f"'{column}': one-hot encoded, {len(levels)} levels")
            else:
                numeric = pd.to_numeric(values, errors="coerce")
                if numeric.isna().sum() > values.isna().sum():
                    row = int(np.flatnonzero(numeric.isna() & values.notna())[0])
                    raise InputError(
                        "non-numeric value in a numeric column",
                        item=f"row {row}, column '{column}' = {values.iloc[row]!r}",
                    )
                if numeric.isna().all():
                    self.fill_[column] = 0.0
                else:
                    self.fill_[column] = float(numeric.median())
                if values.isna().any():
                    self.report_.append(
                        f"'{column}': {int(values.isna().sum())} missing imputed with median {self.fill_[column]:.4g}"
                    )
        encoded = self._encode(frame)
        sd = encoded.std(axis=0)
        keep = sd > 1e-12
        for name in np.asarray(self._encoded_names())[~keep]:
            self.report_.append(f"'{name}': constant in the training rows, dropped")
        self.keep_ = keep
        self.mean_ = encoded.mean(axis=0)[keep] if self.standardise else np.zeros(int(keep.sum()))
        self.scale_ = sd[keep] if self.standardise else np.ones(int(keep.sum()))
        if self.standardise:
            self.report_.append(f"{int(keep.sum())} columns standardised with training mean and sd")
        self.feature_names_ = list(np.asarray(self._encoded_names())[keep])
        if not self.feature_names_:
            raise InputError(
                "no informative feature left after preprocessing", item=f"columns {self.columns_}"
            )
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """(n, p_out) float matrix; missing columns raise, extra columns are ignored."""
        frame = _as_frame(X)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise InputError(
                "feature column missing", item=f"'{missing[0]}'", expected=f"columns {self.columns_}"
            )
        encoded = self._encode(frame[self.columns_])[:, self.keep_]
        return (encoded - self.mean_) / self.scale_

    def _encoded_names(self) -> list[str]:
        names: list[str] = []
        for column in self.columns_:
            if column in self.categorical_:
                names += [f"{column}={level}" for level in self.categorical_[column][1:]]
            else:
                names.append(column)
        return names

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for column in self.columns_:
            values = frame[column]
            if column in self.fill_:
                values = values.astype(object).where(values.notna(), self.fill_[column])
            if column in self.categorical_:
                levels = self.categorical_[column]
                as_text = values.astype(str).to_numpy()
                blocks.append(
                    np.stack([as_text == str(level) for level in levels[1:]], axis=1).astype(float)
                    if len(levels) > 1
                    else np.zeros((len(frame), 0))
                )
            else:
                blocks.append(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)[:, None])
        return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(frame), 0))


def _as_frame(X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    array = np.asarray(X)
    if array.ndim != 2:
        raise InputError("features must be a 2-d table", item=f"shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _is_categorical(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or values.dtype == bool


def simulate_exponential(
    n: int,
    n_features: int = 3,
    *,
    censoring_rate: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exponential proportional-hazards data with known true survival curves.

    ``T | x ~ Exponential(rate = exp(x @ beta))``, ``x ~ N(0, I)``, ``beta = (1, -0.5, 0.25, ...)``
    (alternating, halving); independent censoring ``C ~ Exponential(censoring_rate)``; the observed
    time is ``min(T, C)``. The true curve of patient i is ``S_i(t) = exp(-t * exp(x_i @ beta))``.

    Returns:
        ``(X (n, d), y structured (n,), rates (n,), beta (d,))``; rates are the true hazards.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    beta = np.array([(-0.5) ** k for k in range(n_features)])
    rates = np.exp(X @ beta)
    t_event = rng.exponential(1.0 / rates)
    t_cens = rng.exponential(1.0 / censoring_rate, size=n) if censoring_rate > 0 else np.full(n, np.inf)
    time = np.minimum(t_event, t_cens)
    event = t_event <= t_cens
    return X, make_target(event, time), rates, beta
