"""The genmodels command line: light help, one-line errors with exit code 2, a tiny fit and evaluation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from genmodels.cli import main

PROBE = """
import sys
from genmodels.cli import main
for argv in (["--help"], ["fit-vae", "--help"], ["evaluate-vae", "--help"], ["fit-tdvae", "--help"], ["planet", "--help"], ["fit-causal-infogan", "--help"],
             ["world-models", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
import genmodels
genmodels.__all__
print("torch" in sys.modules)
"""


def test_help_of_every_command_stays_free_of_torch():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_bad_input_ends_in_one_line_and_exit_code_2(tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.full((4, 8, 8), 7.0))
    assert main(["fit-vae", "--data", str(tmp_path / "bad.npy"), "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "values from 7 to 7" in error
    assert not (tmp_path / "run").exists()
    with pytest.raises(SystemExit) as exit_code:
        main(["fit-vae", "--data", "digits", "--objective-kind", "gec", "--out", str(tmp_path / "r")])
    assert exit_code.value.code == 2 and "invalid choice: 'gec'" in capsys.readouterr().err


def test_fit_then_evaluate_a_tiny_vae(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "fit-vae",
        "--data",
        "digits",
        "--latent-dim",
        "2",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert (out / "vae.safetensors").is_file() and (out / "grid.png").is_file()
    capsys.readouterr()
    assert (
        main(["evaluate-vae", str(out / "vae.safetensors"), "--data", "digits", "--k", "5", "--limit", "20"])
        == 0
    )
    assert "log_px_iwae" in capsys.readouterr().out
    assert main(["evaluate-vae", str(out / "vae.safetensors"), "--data", "mnist-5000", "--limit", "2"]) == 2
    assert "(1, 8, 8)" in capsys.readouterr().err


def test_fit_tdvae_trains_on_a_users_array_and_refuses_bad_ones(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "seq.npy", rng.normal(size=(8, 6, 2)).astype(np.float32))
    argv = ["fit-tdvae", "--data", str(tmp_path / "seq.npy"), "--belief-dim", "4", "--latent-dim", "2"]
    argv += ["--hidden", "4", "--epochs", "1", "--batch-size", "4", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert (tmp_path / "run" / "tdvae.safetensors").is_file()
    capsys.readouterr()
    np.save(tmp_path / "flat.npy", np.zeros((8, 6)))
    assert main(["fit-tdvae", "--data", str(tmp_path / "flat.npy"), "--out", str(tmp_path / "r2")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "shape (8, 6)" in error
    assert main(["fit-tdvae", "--data", "nothing.csv", "--out", str(tmp_path / "r3")]) == 2
    assert "oscillator" in capsys.readouterr().err
