"""Feature preprocessing with scikit-learn's own machinery, fitted on training rows only.

`Preprocessor` is a scikit-learn transformer around one `Pipeline`: a `ColumnTransformer` that
imputes numeric columns with the training median and categorical ones with the training mode and
one-hot encodes the categoricals (first level dropped, unseen test levels all zeros), then
`VarianceThreshold` (columns constant in the training rows are dropped: rare levels inside a
cross-validation fold) and `StandardScaler`. It adds what scikit-learn leaves to the caller: a
numeric column with a text cell is refused naming the row (pandas would read it as text, and it
would be one-hot encoded into one level per number), a report of what was done, and a JSON state
so a saved model carries its preprocessing (`state()` / `Preprocessor.from_state`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from core.errors import InputError

__all__ = ["Preprocessor", "check_numeric_columns"]


def _is_categorical(values: pd.Series) -> bool:
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or values.dtype == object
        or values.dtype == bool
        or pd.api.types.is_string_dtype(values.dtype)
    )


def check_numeric_columns(frame: pd.DataFrame) -> None:
    """Refuse a mostly-numeric text column: the non-numbers in it are data errors, not levels.

    A text column in which more than half of the non-missing cells parse as numbers is taken to be
    a numeric column; its first cell that does not parse is reported.

    Raises:
        InputError: naming the row, the column and the offending value.
    """
    for column in frame.columns:
        values = frame[column]
        if (
            not _is_categorical(values)
            or values.dtype == bool
            or isinstance(values.dtype, pd.CategoricalDtype)
        ):
            continue
        present = values[values.notna()]
        if present.empty:
            continue
        numeric = pd.to_numeric(present, errors="coerce")
        if numeric.notna().mean() > 0.5 and numeric.isna().any():
            row = int(present.index[np.flatnonzero(numeric.isna().to_numpy())[0]])
            raise InputError(
                "non-numeric value in a numeric column",
                item=f"row {row}, column '{column}' = {values.loc[row]!r}",
                expected="a number or an empty cell",
            )


def _as_frame(X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    array = np.asarray(X)
    if array.ndim != 2:
        raise InputError("features must be a 2-d table", item=f"shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _clean(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Numeric columns as floats, categorical ones as strings with NaN for missing."""
    out = {}
    for column in numeric:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    for column in categorical:
        values = frame[column]
        out[column] = (
            values.astype(object)
            .where(values.notna(), np.nan)
            .map(lambda v: v if isinstance(v, float) and np.isnan(v) else str(v))
        )
    return pd.DataFrame(out, columns=[*numeric, *categorical])


def _encoder(numeric: list[str], categorical: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    onehot = OneHotEncoder(
        drop="first",
        handle_unknown="ignore",
        sparse_output=False,
        feature_name_combiner=lambda name, level: f"{name}={level}",
    )
    return ColumnTransformer(
        [
            ("numeric", SimpleImputer(strategy="median", keep_empty_features=True), numeric),
            (
                "categorical",
                Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("onehot", onehot)]),
                categorical,
            ),
        ],
        verbose_feature_names_out=False,
    )


class Preprocessor(TransformerMixin, BaseEstimator):
    """Turn a raw feature table into a float matrix using training statistics only.

    Args:
        standardise: scale every output column to training mean 0 and sd 1.

    Attributes (after fit):
        pipeline_: the fitted scikit-learn `Pipeline` (encode -> drop constant -> scale).
        feature_names_: names of the output columns (``"sex=M"`` for a one-hot column).
        report_: one line per action taken (imputations, encodings, dropped columns).
    """

    def __init__(self, standardise: bool = True) -> None:
        self.standardise = standardise

    def fit(self, X: pd.DataFrame | np.ndarray, y: object = None) -> Preprocessor:
        """Learn medians, modes, levels, constant columns and scales from the rows of `X`.

        Raises:
            InputError: a text cell in a numeric column, or no informative column at all.
        """
        frame = _as_frame(X)
        check_numeric_columns(frame)
        self.columns_ = list(frame.columns)
        self.categorical_ = [c for c in self.columns_ if _is_categorical(frame[c])]
        self.numeric_ = [c for c in self.columns_ if c not in self.categorical_]
        clean = _clean(frame, self.numeric_, self.categorical_)
        self.pipeline_ = self._pipeline()
        encode, drop, scale = (step for _, step in self.pipeline_.steps)
        encoded = encode.fit_transform(clean)
        try:
            kept = drop.fit_transform(encoded)
        except ValueError as exc:
            raise InputError(
                "no informative feature left after preprocessing", item=f"columns {self.columns_}"
            ) from exc
        if scale != "passthrough":
            scale.fit(kept)
        self._describe(clean)
        return self

    def _pipeline(self) -> Any:
        from sklearn.feature_selection import VarianceThreshold
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return Pipeline(
            [
                ("encode", _encoder(self.numeric_, self.categorical_)),
                ("drop_constant", VarianceThreshold()),
                ("scale", StandardScaler() if self.standardise else "passthrough"),
            ]
        )

    def _describe(self, clean: pd.DataFrame) -> None:
        encode, drop, _ = (step for _, step in self.pipeline_.steps)
        names = list(encode.get_feature_names_out())
        support = drop.get_support()
        self.feature_names_ = [name for name, keep in zip(names, support) if keep]
        self.report_: list[str] = []
        medians = encode.named_transformers_["numeric"].statistics_ if self.numeric_ else []
        for column, median in zip(self.numeric_, medians):
            missing = int(clean[column].isna().sum())
            if missing:
                self.report_.append(f"'{column}': {missing} missing imputed with median {median:.4g}")
        if self.categorical_:
            cat = encode.named_transformers_["categorical"]
            modes = cat.named_steps["impute"].statistics_
            for column, mode, levels in zip(self.categorical_, modes, cat.named_steps["onehot"].categories_):
                missing = int(clean[column].isna().sum())
                if missing:
                    self.report_.append(f"'{column}': {missing} missing imputed with mode {mode!r}")
                self.report_.append(f"'{column}': one-hot encoded, {len(levels)} levels")
        for name, keep in zip(names, support):
            if not keep:
                self.report_.append(f"'{name}': constant in the training rows, dropped")
        if self.standardise:
            self.report_.append(f"{len(self.feature_names_)} columns standardised with training mean and sd")

    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """(n, p_out) float matrix; missing columns raise, extra columns are ignored."""
        if not hasattr(self, "pipeline_"):
            raise InputError("Preprocessor is not fitted yet", item="call fit(X) first")
        frame = _as_frame(X)
        missing = [c for c in self.columns_ if c not in frame.columns]
        if missing:
            raise InputError(
                "feature column missing", item=f"'{missing[0]}'", expected=f"columns {self.columns_}"
            )
        check_numeric_columns(frame[self.numeric_])
        with warnings.catch_warnings():  # unseen levels encode as all zeros, as documented above
            warnings.filterwarnings("ignore", message="Found unknown categories")
            return np.asarray(
                self.pipeline_.transform(_clean(frame, self.numeric_, self.categorical_)), dtype=float
            )

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names_, dtype=object)

    def state(self) -> dict[str, Any]:
        """Everything `transform` needs, as JSON-able lists and numbers (saved inside model files)."""
        encode, drop, scale = (step for _, step in self.pipeline_.steps)
        state: dict[str, Any] = {
            "standardise": self.standardise,
            "columns": self.columns_,
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "variances": drop.variances_.tolist(),
            "report": self.report_,
        }
        if self.numeric_:
            state["medians"] = encode.named_transformers_["numeric"].statistics_.tolist()
        if self.categorical_:
            cat = encode.named_transformers_["categorical"]
            state["modes"] = [str(m) for m in cat.named_steps["impute"].statistics_]
            state["levels"] = [[str(v) for v in levels] for levels in cat.named_steps["onehot"].categories_]
        if scale != "passthrough":
            state["mean"], state["scale"] = scale.mean_.tolist(), scale.scale_.tolist()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Preprocessor:
        """The fitted preprocessor that `state()` describes (same `transform`, bit for bit).

        The scikit-learn components are fitted on a small prototype table holding every level,
        then given the saved statistics (medians, modes, variances, means, scales).

        Raises:
            InputError: a state with missing or inconsistent entries.
        """
        try:
            pre = cls(standardise=bool(state["standardise"]))
            pre.columns_, pre.numeric_, pre.categorical_ = (
                list(state[k]) for k in ("columns", "numeric", "categorical")
            )
            levels = state.get("levels", [])
            rows = max([2, *(len(v) for v in levels)])
            proto = {c: np.arange(rows, dtype=float) for c in pre.numeric_}
            proto.update({c: [v[i % len(v)] for i in range(rows)] for c, v in zip(pre.categorical_, levels)})
            pre.pipeline_ = pre._pipeline()
            encode, drop, scale = (step for _, step in pre.pipeline_.steps)
            encoded = encode.fit_transform(pd.DataFrame(proto, columns=[*pre.numeric_, *pre.categorical_]))
            if pre.numeric_:
                encode.named_transformers_["numeric"].statistics_ = np.asarray(state["medians"], dtype=float)
            if pre.categorical_:
                impute = encode.named_transformers_["categorical"].named_steps["impute"]
                impute.statistics_ = np.asarray(state["modes"], dtype=object)
            drop.fit(encoded)
            drop.variances_ = np.asarray(state["variances"], dtype=float)
            if scale != "passthrough":
                scale.fit(drop.transform(encoded))
                scale.mean_ = np.asarray(state["mean"], dtype=float)
                scale.scale_ = np.asarray(state["scale"], dtype=float)
                scale.var_ = np.square(scale.scale_)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("broken preprocessing state in the model file", item=repr(exc)) from exc
        names = list(encode.get_feature_names_out())
        pre.feature_names_ = [n for n, keep in zip(names, drop.get_support()) if keep]
        pre.report_ = list(state.get("report", []))
        return pre
