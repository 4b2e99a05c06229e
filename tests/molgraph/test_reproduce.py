"""The headline experiment runs end to end on a micro protocol and reports real, bounded numbers."""

from __future__ import annotations

import json
import math

import pytest

from core.cli import RunOptions
from core.errors import InputError
from molgraph import JTVAEConfig, TrainConfig
from molgraph import reproduce as experiment


def test_reproduce_runs_end_to_end_on_a_micro_protocol(tmp_path, monkeypatch):
    micro = experiment.Protocol(
        n_train=12,
        n_test=3,
        model=JTVAEConfig(hidden=16, latent=4, depth_tree=3, depth_graph=2, max_tree_nodes=8),
        schedule=TrainConfig(epochs=2, batch_size=6),
        encodings=1,
        decodings=1,
        n_samples=4,
        n_opt=2,
        opt_steps=1,
        bo_iterations=1,
        bo_batch=2,
    )
    monkeypatch.setitem(experiment.PROTOCOLS, "smoke", micro)
    generation, optimisation = experiment.reproduce(
        RunOptions(scale="smoke", seed=0, out=tmp_path, device="cpu")
    )
    values = {row["metric"]: row["measured"] for row in generation.rows}
    for key in (
        "reconstruction, held-out",
        "prior validity",
        "prior uniqueness",
        "prior novelty (vs training set)",
    ):
        assert 0.0 <= values[key] <= 1.0
    assert optimisation.rows[0]["paper"] == pytest.approx(0.836)
    assert not math.isnan(optimisation.rows[2]["measured"])
    assert (tmp_path / "training.png").is_file() and (tmp_path / "model.safetensors").is_file()
    for name in ("generation", "optimisation"):  # published as soon as computed, with their data
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        assert "bundled MOSES subset" in saved["data"] and saved["provenance"]["seed"] == 0
    with pytest.raises(InputError, match="unknown scale"):
        experiment.reproduce(RunOptions(scale="huge", out=tmp_path))  # type: ignore[arg-type]


def test_full_scale_without_its_data_names_the_file_and_how_to_get_it(tmp_path):
    with pytest.raises(InputError, match="molgraph data moses") as info:
        experiment.reproduce(RunOptions(scale="full", out=tmp_path / "out", data=tmp_path, device="cpu"))
    assert str(tmp_path / "train.csv.gz") in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_reproduce_full_without_data_is_one_line_exit_2_and_leaves_no_folder(tmp_path, capsys):
    from molgraph.cli import main

    code = main(["reproduce", "--scale", "full", "--out", str(tmp_path), "--data", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "molgraph data moses" in err[0] and "train.csv.gz" in err[0]
    assert list(tmp_path.iterdir()) == []  # the molgraph/ folder core created is gone again
