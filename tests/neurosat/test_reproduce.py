"""The headline experiment is registered and its full scale uses the paper's settings."""

from __future__ import annotations

from core.reproduce import registered_experiments
from neurosat.model import NeuroSATConfig
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
