"""The ``survival`` command line: fit/predict round trip, the shared options, one-line errors with exit 2."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import numpy as np
import pandas as pd
import pytest

from core.reproduce import registered_experiments
from core.testing import exit_code
from survival.cli import main
from survival.simulate import simulate_exponential

_exit_code = partial(exit_code, main)


def _csv(tmp_path, n=120, name="patients.csv"):
    X, y, _, _ = simulate_exponential(n, seed=2)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(days=y["time"], died=y["event"].astype(int))
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path, df


_COLS = ["--time-col", "days", "--event-col", "died"]


def test_fit_predicts_curves_for_a_csv(tmp_path, capsys):
    path, df = _csv(tmp_path)
    out = tmp_path / "fit"
    code = main(
        ["fit", "--csv", str(path), *_COLS, "--model", "coxkp", "--predict", str(path), "--out", str(out)]
    )
    assert code == 0
    curves = pd.read_csv(out / "curves.csv")
    assert len(curves) == len(df) and {"median_time", "mean_time"} <= set(curves.columns)
    probs = curves.filter(like="S(").to_numpy()
    assert np.all(np.diff(probs, axis=1) <= 1e-12) and np.all((probs >= 0) & (probs <= 1))
    assert "120 predicted curves" in capsys.readouterr().out


def test_a_saved_model_carries_its_preprocessing_and_predicts_a_raw_csv(tmp_path):
    path, df = _csv(tmp_path)
    df["site"] = ["north", "south", "east"] * 40  # a categorical column, one-hot encoded inside the model
    df.to_csv(path, index=False)
    out = tmp_path / "fit"
    assert (
        main(["fit", "--csv", str(path), *_COLS, "--c1", "1.0", "--predict", str(path), "--out", str(out)])
        == 0
    )
    assert (out / "model.safetensors").is_file()
    predicted = tmp_path / "predicted"
    new = df.drop(columns=["days", "died"]).iloc[:7]
    new.to_csv(tmp_path / "new.csv", index=False)
    times = ["--times", "0.5", "1.0", "2.0"]
    assert (
        main(
            [
                "predict",
                str(out / "model.safetensors"),
                str(tmp_path / "new.csv"),
                *times,
                "--out",
                str(predicted),
            ]
        )
        == 0
    )
    from survival import MTLR, Preprocessor

    model = MTLR.load(out / "model.safetensors")
    expected = model.predict_curves(Preprocessor().fit(df.drop(columns=["days", "died"])).transform(new))
    written = pd.read_csv(predicted / "curves.csv")
    np.testing.assert_allclose(
        written.filter(like="S(").to_numpy(), expected.survival_at([0.5, 1.0, 2.0]), atol=1e-12
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--dataset", "veterans", "--seed", "-1"], "--seed: must be >= 0, got -1"),
        (["fit", "--csv", "missing.csv"], "--csv: file not found: 'missing.csv'"),
        (["predict", "missing.safetensors", "x.csv"], "file not found: 'missing.safetensors'"),
        (["evaluate", "--dataset", "veterans", "--models", "km,deephit"], "unknown model"),
        (["evaluate", "--dataset", "veterans", "--device", "tpu"], "unknown device 'tpu'"),
        (["evaluate", "--dataset", "support2"], "unknown dataset"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_bad_csv_rows_tiny_tables_and_out_files_end_in_one_line(tmp_path, capsys):
    path, df = _csv(tmp_path)
    df.loc[5, "days"] = -3.0
    df.to_csv(path, index=False)
    assert main(["fit", "--csv", str(path), *_COLS, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "negative survival time" in err and "row 5, column 'days'" in err
    assert not (tmp_path / "a").exists()  # nothing half-written
    for rows in (2, 4):
        tiny, _ = _csv(tmp_path, n=rows, name=f"tiny{rows}.csv")
        for argv in (["fit", "--csv", str(tiny), *_COLS], ["evaluate", "--csv", str(tiny), *_COLS]):
            assert _exit_code([*argv, "--out", str(tmp_path / "tiny")]) == 2
            err = capsys.readouterr().err.strip()
            assert err.startswith("survival: error: ") and len(err.splitlines()) == 1, err
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    assert _exit_code(["fit", "--csv", str(path), *_COLS, "--out", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_predict_csv_missing_fails_before_fitting(tmp_path, capsys):
    path, _ = _csv(tmp_path)
    assert _exit_code(["fit", "--csv", str(path), *_COLS, "--predict", str(tmp_path / "nope.csv")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_evaluate_prints_every_metric_and_saves_the_table(tmp_path, capsys):
    out = tmp_path / "eval"
    assert (
        main(["evaluate", "--dataset", "veterans", "--models", "km,coxkp", "--folds", "3", "--out", str(out)])
        == 0
    )
    text = capsys.readouterr().out
    assert "c_harrell" in text and "d_cal_p" in text and "| coxkp |" in text
    assert (out / "evaluate_veterans.json").is_file()


def test_help_imports_no_heavy_library():
    code = (
        "import sys\nfrom survival.cli import main\n"
        "for argv in (['--help'], ['fit', '--help'], ['evaluate', '--help'], ['predict', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "import survival\n"
        "heavy = [m for m in ('torch', 'sklearn', 'sksurv', 'matplotlib', 'scipy', 'lifelines') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_reproduce_is_registered():
    assert "survival" in registered_experiments()
