"""Training learns, resumes exactly from its checkpoint, and refuses bad input."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from neurosat.cnf import make_problem
from neurosat.evaluation import accuracy, predict_proba
from neurosat.model import NeuroSAT, NeuroSATConfig
from neurosat.sr import generate_sr
from neurosat.train import TrainConfig, fit


@pytest.mark.slow
def test_short_training_run_on_sr_pairs_learns_beyond_chance() -> None:
    train, test = generate_sr(1200, 3, 6, seed=0), generate_sr(100, 6, seed=1)
    torch.manual_seed(0)
    model = NeuroSAT(NeuroSATConfig(d=32, rounds=8))
    config = TrainConfig(epochs=5, learning_rate=1e-3, max_nodes=3000, seed=0)
    history = fit(model, train, config, show_progress=False)
    assert history.loss[-1] < history.loss[0] - 0.05
    # Balanced twins: always guessing one class (or a coin) scores 0.5; demand a clear margin.
    assert accuracy(predict_proba(model, test), [p.is_sat for p in test]) >= 0.65


def test_pair_batches_require_twin_pairs() -> None:
    model = NeuroSAT(NeuroSATConfig(d=4, rounds=1))
    sat = make_problem(2, [(1, 2)], is_sat=True, name="a")
    with pytest.raises(InputError, match="count is odd"):
        fit(model, [sat], show_progress=False)
    with pytest.raises(InputError, match="problems 0 and 1"):
        fit(model, [sat, sat], show_progress=False)
    fit(model, [sat, sat], TrainConfig(epochs=1, pair_batches=False), show_progress=False)


def test_training_resumes_exactly_from_its_checkpoint(tmp_path) -> None:
    problems = generate_sr(6, 3, 5, seed=0)
    config = TrainConfig(epochs=2, learning_rate=1e-3, max_nodes=200, seed=3)
    model_cfg = NeuroSATConfig(d=8, rounds=3, mlp_layers=1)

    torch.manual_seed(0)
    straight = NeuroSAT(model_cfg)
    straight_history = fit(straight, problems, config, show_progress=False)

    # Stop after one epoch, then start again with a fresh model: it resumes at epoch 2.
    ckpt = tmp_path / "run.safetensors"
    torch.manual_seed(0)
    fit(NeuroSAT(model_cfg), problems, replace(config, epochs=1), checkpoint=ckpt, show_progress=False)
    resumed = NeuroSAT(NeuroSATConfig(d=8, rounds=3, mlp_layers=1))
    history = fit(resumed, problems, config, checkpoint=ckpt, show_progress=False)
    assert history.loss == pytest.approx(straight_history.loss, rel=1e-6)
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values()):
        torch.testing.assert_close(a, b)

    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit(NeuroSAT(model_cfg), problems, replace(config, learning_rate=0.1), checkpoint=ckpt)
    with pytest.raises(CheckpointMismatchError, match="'d'"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=3, mlp_layers=1)), problems, config, checkpoint=ckpt)


def test_fit_rejects_unlabelled_problems() -> None:
    with pytest.raises(InputError, match="problem 0"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=1)), [make_problem(2, [(1, 2)])], show_progress=False)
    with pytest.raises(InputError, match="no training problems"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=1)), [], show_progress=False)
