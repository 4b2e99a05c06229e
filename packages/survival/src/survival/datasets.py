"""The real datasets, read from the data files inside the scikit-survival and lifelines wheels.

No network and no bundled copy: each loader reads the file its library ships. `DATASETS` lists
them with their sources; `load_dataset(name)` returns a `SurvivalDataset`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import InputError
from survival.target import make_target

__all__ = ["DATASETS", "SurvivalDataset", "load_dataset"]

Loader = Callable[[], tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]]


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


def _dropped(drop: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"dropped column '{c}'" for c in drop)


def _sksurv(loader_name: str, drop: tuple[str, ...] = ()) -> Loader:
    def load() -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
        from sksurv import datasets

        X, y = getattr(datasets, loader_name)()
        names = y.dtype.names
        target = make_target(y[names[0]], y[names[1]])
        return X.drop(columns=list(drop)).reset_index(drop=True), target, _dropped(drop)

    return load


def _lifelines_frame(time_col: str, event_col: str, drop: tuple[str, ...], df: pd.DataFrame):
    target = make_target(df[event_col].to_numpy(), df[time_col].to_numpy())
    X = df.drop(columns=[time_col, event_col, *drop]).reset_index(drop=True)
    return X, target, _dropped(drop)


def _lifelines(loader_name: str, time_col: str, event_col: str, drop: tuple[str, ...] = ()) -> Loader:
    def load() -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
        from lifelines import datasets

        return _lifelines_frame(time_col, event_col, drop, getattr(datasets, loader_name)())

    return load


def _lifelines_csv(file_name: str, time_col: str, event_col: str, drop: tuple[str, ...] = ()) -> Loader:
    """A CSV that lifelines ships without a loader function (read in place from its wheel)."""

    def load() -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
        from importlib.resources import files

        path = files("lifelines.datasets") / file_name
        if not path.is_file():
            raise InputError(
                "data file not found in the installed lifelines", item=str(path), expected="lifelines>=0.29"
            )
        return _lifelines_frame(time_col, event_col, drop, pd.read_csv(str(path), index_col=0))

    return load


# ACTG 175: the CD4 counts at weeks 20 and 96 ('cd420', 'cd496', 'cd820'), 'r' (whether the week-96
# count is missing) and 'offtrt' (off treatment before week 96) are measured after baseline and
# leak the outcome; 'pidnum' is the patient id.
_ACTG175_DROP = ("pidnum", "cd420", "cd496", "r", "cd820", "offtrt")

# name -> (loader, source description)
DATASETS: dict[str, tuple[Loader, str]] = {
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
    "actg175": (
        _lifelines_csv("ACTG175.csv", "days", "cens", drop=_ACTG175_DROP),
        "AIDS Clinical Trials Group 175, 2139 patients (Hammer et al. 1996), ACTG175.csv from lifelines; "
        "patient id and post-baseline columns (cd420, cd496, r, cd820, offtrt) dropped",
    ),
}


def load_dataset(name: str) -> SurvivalDataset:
    """Load one of the real datasets by name (see `DATASETS`).

    Raises:
        InputError: unknown name (the message lists the known ones).
    """
    if name not in DATASETS:
        raise InputError("unknown dataset", item=repr(name), expected=f"one of {sorted(DATASETS)}")
    loader, source = DATASETS[name]
    X, y, notes = loader()
    return SurvivalDataset(name=name, X=X, y=y, source=source, notes=notes)
