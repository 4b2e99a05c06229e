"""Data: the bundled datasets, user tables with bad values, preprocessing with training statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from survival.datasets import DATASETS, load_dataset
from survival.preprocess import Preprocessor
from survival.tables import from_csv, from_dataframe
from survival.target import event_time


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_bundled_dataset_loads_and_preprocesses(name):
    data = load_dataset(name)
    event, time = event_time(data.y)
    assert len(data.X) == event.size > 100 and event.any() and (time >= 0).all()
    features = Preprocessor().fit_transform(data.X)
    assert np.isfinite(features).all() and features.shape[0] == event.size


def test_preprocessor_uses_training_statistics_only():
    train = pd.DataFrame({"age": [50.0, np.nan, 70.0, 60.0], "sex": pd.Categorical(["F", "M", None, "M"])})
    test = pd.DataFrame({"age": [np.nan, 80.0], "sex": pd.Categorical(["X", "F"])})
    pre = Preprocessor().fit(train)
    assert pre.feature_names_ == ["age", "sex=M"]
    out = pre.transform(test)
    age_train = np.array([50.0, 60.0, 70.0, 60.0])  # NaN imputed with the training median 60
    assert out[0, 0] == pytest.approx((60.0 - age_train.mean()) / age_train.std())
    assert out[1, 0] == pytest.approx((80.0 - age_train.mean()) / age_train.std())
    sex_train = np.array([0.0, 1.0, 1.0, 1.0])  # missing sex imputed with the mode "M"
    assert out[0, 1] == pytest.approx((0.0 - sex_train.mean()) / sex_train.std())  # unseen level -> no dummy
    assert any("imputed with median 60" in line for line in pre.report_)
    assert any("mode 'M'" in line for line in pre.report_)


def _table() -> pd.DataFrame:
    return pd.DataFrame({"T": [5.0, 3.0, 8.0, 2.0], "E": [1, 0, 1, 1], "x": [0.1, 0.5, 0.2, 0.9]})


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("T", 2, -1.0, "negative survival time; offending item: row 2, column 'T'"),
        ("T", 1, np.nan, "missing or infinite survival time; offending item: row 1, column 'T'"),
        ("E", 3, 2, "event indicator is not 0/1; offending item: row 3, column 'E'"),
    ],
)
def test_bad_times_and_events_name_row_and_column(column, row, value, message):
    df = _table()
    df.loc[row, column] = value
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_dataframe(df, time_col="T", event_col="E")


def test_no_events_and_missing_columns_are_refused_and_a_constant_column_is_dropped_with_a_log(
    tmp_path, caplog
):
    df = _table()
    with pytest.raises(InputError, match="no events at all"):
        from_dataframe(df.assign(E=0), "T", "E")
    with caplog.at_level("WARNING", logger="survival"):
        X, _ = from_dataframe(df.assign(c=1.0), "T", "E")
    assert list(X.columns) == ["x"] and "feature column 'c' is constant: dropped" in caplog.text
    with pytest.raises(InputError, match="every feature column is constant"):
        from_dataframe(df.assign(x=1.0), "T", "E")
    with pytest.raises(InputError, match="column not found; offending item: 'time'"):
        from_dataframe(df, "time", "E")
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("support2")
    path = tmp_path / "table.csv"
    df.to_csv(path, index=False)
    X, y = from_csv(path, time_col="T", event_col="E")
    assert list(X.columns) == ["x"] and y["E"].tolist() == [True, False, True, True]
    with pytest.raises(InputError, match="CSV file not found"):
        from_csv(tmp_path / "missing.csv")
    with pytest.raises(
        InputError, match="non-numeric value in a numeric column; offending item: row 1, column 'x'"
    ):
        Preprocessor().fit(pd.DataFrame({"x": pd.array(["1.0", "abc", "2.0"], dtype="string")}))


def test_a_numeric_column_with_one_text_cell_is_refused_naming_row_and_column(tmp_path):
    """pandas reads such a column as text; it must not become a categorical with a level per number."""
    df = pd.DataFrame({"T": np.arange(1.0, 61.0), "E": [1, 0] * 30, "age": np.arange(40.0, 100.0)})
    df["age"] = df["age"].astype(object)
    df.loc[17, "age"] = "n/a?"
    path = tmp_path / "patients.csv"
    df.to_csv(path, index=False)
    with pytest.raises(
        InputError, match=r"non-numeric value in a numeric column; offending item: row 17, column 'age'"
    ):
        from_csv(path, time_col="T", event_col="E")
    text = pd.DataFrame({"site": ["a", "b", "c", "a"] * 5})  # a real categorical is one-hot encoded
    assert Preprocessor().fit(text).feature_names_ == ["site=b", "site=c"]


def test_metrics_refuse_event_codes_the_models_refuse():
    from survival.metrics import concordance_harrell

    with pytest.raises(InputError, match="event indicator is not 0/1; offending item: row 2"):
        concordance_harrell(np.array([1, 0, 2]), np.array([1.0, 2.0, 3.0]), np.array([0.3, 0.2, 0.1]))


def test_preprocessor_state_round_trip_transforms_identically():
    data = load_dataset("gbsg2")
    pre = Preprocessor().fit(data.X.iloc[:400])
    again = Preprocessor.from_state(pre.state())
    np.testing.assert_array_equal(again.transform(data.X.iloc[400:]), pre.transform(data.X.iloc[400:]))
    assert again.feature_names_ == pre.feature_names_


def test_actg175_loads_by_name_without_post_baseline_columns():
    data = load_dataset("actg175")
    assert len(data.X) == 2139 and int(data.y["event"].sum()) == 521
    assert not {"cd420", "cd496", "cd820", "offtrt", "pidnum", "days", "cens"} & set(data.X.columns)
