"""The ``gradest`` command line."""

from __future__ import annotations

from gradest.cli import main
from gradest.registry import ESTIMATORS


def test_estimators_lists_every_name(capsys):
    assert main(["estimators"]) == 0
    assert capsys.readouterr().out.split() == list(ESTIMATORS)


def test_variance_prints_a_table_with_rb_below_reinforce(capsys):
    assert main(["variance", "reinforce", "rb-reinforce", "--repeats", "4000"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): float(line.split("|")[2])
        for line in out.splitlines()
        if line.startswith("| r")
    }
    assert rows["rb-reinforce"] < rows["reinforce"]


def test_unknown_estimator_is_a_one_line_error(capsys):
    assert main(["variance", "reinforced"]) == 2
    err = capsys.readouterr().err
    assert "unknown estimator" in err and "reinforced" in err


def test_fit_runs_and_resumes(tmp_path, capsys):
    args = [
        "fit",
        "vae",
        "--steps",
        "4",
        "--eval-every",
        "2",
        "--batch-size",
        "8",
        "--checkpoint",
        str(tmp_path / "c"),
    ]
    assert main(args) == 0
    assert "test_neg_elbo" in capsys.readouterr().out
    assert (tmp_path / "c").exists()
    assert main(args) == 0  # finished run: resumes at its last step and reports the same history
