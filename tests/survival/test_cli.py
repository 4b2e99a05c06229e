"""The ``survival`` command line and the ``reproduce`` registration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.reproduce import registered_experiments
from survival.cli import main
from survival.simulate import simulate_exponential


def _csv(tmp_path, n=120):
    X, y, _, _ = simulate_exponential(n, seed=2)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(days=y["time"], died=y["event"].astype(int))
    path = tmp_path / "patients.csv"
    df.to_csv(path, index=False)
    return path, df


def test_fit_predicts_curves_for_a_csv(tmp_path, capsys):
    path, df = _csv(tmp_path)
    out = tmp_path / "curves.csv"
    code = main(
        [
            "fit",
            "--csv",
            str(path),
            "--time-col",
            "days",
            "--event-col",
            "died",
            "--model",
            "coxkp",
            "--predict",
            str(path),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    curves = pd.read_csv(out)
    assert len(curves) == len(df) and {"median_time", "mean_time"} <= set(curves.columns)
    probs = curves.filter(like="S(").to_numpy()
    assert np.all(np.diff(probs, axis=1) <= 1e-12) and np.all((probs >= 0) & (probs <= 1))
    assert "120 predicted curves" in capsys.readouterr().out


def test_fit_saves_an_mtlr_model(tmp_path):
    path, _ = _csv(tmp_path)
    target = tmp_path / "model.safetensors"
    assert (
        main(["fit", "--csv", str(path), "--time-col", "days", "--event-col", "died", "--save", str(target)])
        == 0
    )
    assert target.is_file()


def test_bad_csv_gives_exit_code_2_and_names_the_row(tmp_path, capsys):
    path, df = _csv(tmp_path)
    df.loc[5, "days"] = -3.0
    df.to_csv(path, index=False)
    code = main(["fit", "--csv", str(path), "--time-col", "days", "--event-col", "died"])
    assert code == 2
    err = capsys.readouterr().err
    assert "negative survival time" in err and "row 5, column 'days'" in err
    assert main(["evaluate", "--dataset", "veterans", "--models", "km,deephit"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_evaluate_prints_every_metric(capsys):
    assert main(["evaluate", "--dataset", "veterans", "--models", "km,coxkp", "--folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "c_harrell" in out and "d_cal_p" in out and "| coxkp |" in out


def test_reproduce_is_registered():
    assert "survival" in registered_experiments()
