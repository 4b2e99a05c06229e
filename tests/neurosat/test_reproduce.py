"""The headline experiment is registered and its full scale uses the paper's settings."""

from __future__ import annotations

import pytest
import torch

from core.reproduce import registered_experiments
from neurosat.config import NeuroSATConfig
from neurosat.reproduce import SETTINGS, reproduce
from neurosat.train import TrainConfig


def test_reproduce_entry_point_is_registered() -> None:
    assert registered_experiments()["neurosat"].load() is reproduce


def test_full_scale_uses_the_papers_settings() -> None:
    full = SETTINGS["full"]
    assert full.model == NeuroSATConfig() and (full.model.d, full.model.rounds, full.model.mlp_layers) == (
        128,
        26,
        3,
    )
    assert (
        (full.train.learning_rate, full.train.max_nodes)
        == (TrainConfig().learning_rate, 12_000)
        == (2e-5, 12_000)
    )
    assert full.train_vars == (10, 40) and full.test_vars == 40
    assert [n for n, _ in full.scaling] == [80, 120, 160, 200]


@pytest.mark.slow
def test_a_tiny_run_publishes_every_table_as_computed_with_its_data(tmp_path, capsys) -> None:
    import json
    from dataclasses import replace

    from core.cli import RunOptions
    from neurosat import reproduce as experiment

    tiny = replace(
        SETTINGS["smoke"],
        model=NeuroSATConfig(d=4, rounds=2, mlp_layers=1),
        train=TrainConfig(epochs=1, learning_rate=1e-3, max_nodes=400),
        train_vars=(3, 4),
        train_pairs=6,
        test_vars=4,
        test_pairs=4,
        round_curve_rounds=3,
        scaling=((5, (2, 3)),),
        scaling_pairs=2,
        reduction_problems=2,
        reduction_rounds=2,
        generation_jobs=1,
    )
    options = RunOptions(scale="smoke", out=tmp_path, device="cpu", package="neurosat")
    tables = experiment._run(tiny, options, torch.device("cpu"))
    names = [t.name for t in tables]
    assert names == ["classification", "rounds", "scaling", "reductions", "settings"]
    assert all(options.is_published(name) for name in names) and (tmp_path / "rounds.png").is_file()
    for name in names:
        saved = json.loads((tmp_path / f"{name}.json").read_text())
        assert saved["provenance"]["data"], name
