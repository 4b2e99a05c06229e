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
    model = NeuroSAT(NeuroSATConfig(d=32, rounds=8), generator=torch.Generator().manual_seed(0))
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


class _Crash(RuntimeError):
    pass


def _crash_at(step_to_die: int):
    def on_step(step: int, loss: float) -> None:
        if step == step_to_die:
            raise _Crash(f"killed after step {step}")

    return on_step


def test_killed_run_resumes_from_its_checkpoint_bit_identically(tmp_path) -> None:
    problems = generate_sr(10, 3, 5, seed=0)
    config = TrainConfig(epochs=3, learning_rate=1e-3, max_nodes=200, seed=3)
    model_cfg = NeuroSATConfig(d=8, rounds=3, mlp_layers=1)

    def fresh() -> NeuroSAT:
        return NeuroSAT(model_cfg, generator=torch.Generator().manual_seed(0))

    straight = fresh()
    straight_history = fit(straight, problems, config, show_progress=False)
    steps = len(straight_history.step_loss)
    assert steps >= 9 and len(straight_history.loss) == 3

    # Dies mid-epoch 2 (after step 7 of ~3 per epoch); the step-6 checkpoint survives.
    ckpt = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        fit(
            fresh(),
            problems,
            config,
            checkpoint=ckpt,
            checkpoint_every=2,
            on_step=_crash_at(7),
            show_progress=False,
        )
    resumed = NeuroSAT(model_cfg)  # other initial weights: everything must come from the checkpoint
    history = fit(resumed, problems, config, checkpoint=ckpt, checkpoint_every=2, show_progress=False)
    assert history == straight_history  # bit-identical floats, per step and per epoch
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    # epochs is the one extendable field: a finished run grows by one epoch, as an uninterrupted one.
    longer = replace(config, epochs=4)
    extended = fit(resumed, problems, longer, checkpoint=ckpt, show_progress=False)
    reference = fit(fresh(), problems, longer, show_progress=False)
    assert extended == reference
    with pytest.raises(CheckpointMismatchError, match=r"train\.learning_rate.*saved 0\.001, requested 0\.1"):
        fit(fresh(), problems, replace(config, learning_rate=0.1), checkpoint=ckpt)
    with pytest.raises(CheckpointMismatchError, match=r"model\.d"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=3, mlp_layers=1)), problems, config, checkpoint=ckpt)


def test_bad_training_settings_are_refused() -> None:
    with pytest.raises(InputError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(InputError, match=r"NeuroSATConfig\.d"):
        NeuroSATConfig(d=0)
    with pytest.raises(InputError, match="checkpoint_every"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=1)), generate_sr(1, 3, seed=0), checkpoint_every=0)


def test_fit_rejects_unlabelled_problems() -> None:
    with pytest.raises(InputError, match="problem 0"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=1)), [make_problem(2, [(1, 2)])], show_progress=False)
    with pytest.raises(InputError, match="no training problems"):
        fit(NeuroSAT(NeuroSATConfig(d=4, rounds=1)), [], show_progress=False)
