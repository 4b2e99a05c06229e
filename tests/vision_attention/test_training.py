"""The package's one trainer: kill-and-resume is bit-identical, and only the run length may change."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.errors import CheckpointMismatchError, InputError
from vision_attention.config import TrainConfig
from vision_attention.training import build_model, fit


class _Crash(RuntimeError):
    pass


def _problem():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(96, 5, generator=generator)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return x, y


def _loss(model, batch):
    return F.cross_entropy(model(batch[0]), batch[1])


def _model():
    return build_model(
        lambda: torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)), 3
    )


def _without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_training_resumes_from_its_checkpoint_exactly(tmp_path):
    x, y = _problem()
    config = TrainConfig(model="toy", epochs=6, batch_size=16, learning_rate=1e-2)
    straight = _model()
    straight_history = fit(straight, _loss, [x, y], config)

    def crash(epoch):
        if epoch == 3:
            raise _Crash

    path = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        fit(_model(), _loss, [x, y], config, checkpoint=path, on_epoch=crash)
    resumed = _model()
    resumed_history = fit(resumed, _loss, [x, y], config, checkpoint=path)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert _without_time(resumed_history) == _without_time(straight_history)
    # a finished run is extended by raising the extendable field; anything else is refused by name
    longer = fit(
        _model(),
        _loss,
        [x, y],
        TrainConfig(model="toy", epochs=8, batch_size=16, learning_rate=1e-2),
        checkpoint=path,
    )
    assert [row["epoch"] for row in longer] == list(range(1, 9))
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit(
            _model(),
            _loss,
            [x, y],
            TrainConfig(model="toy", epochs=8, batch_size=16, learning_rate=1e-3),
            checkpoint=path,
        )
    with pytest.raises(InputError, match="further along"):
        fit(
            _model(),
            _loss,
            [x, y],
            TrainConfig(model="toy", epochs=2, batch_size=16, learning_rate=1e-2),
            checkpoint=path,
        )


def test_training_learns_and_leaves_the_global_rng_alone():
    x, y = _problem()
    before = torch.random.get_rng_state()
    model = _model()
    history = fit(model, _loss, [x, y], TrainConfig(epochs=20, batch_size=16, learning_rate=1e-2))
    assert torch.equal(before, torch.random.get_rng_state())
    accuracy = float((model(x).argmax(1) == y).float().mean())
    assert accuracy >= 0.9 and history[-1]["loss"] < 0.5 * history[0]["loss"]  # chance is ~0.5


def test_bad_data_and_config_are_refused():
    with pytest.raises(InputError, match="equal length"):
        fit(_model(), _loss, [torch.zeros(3, 5), torch.zeros(4)], TrainConfig())
    with pytest.raises(InputError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(InputError, match="weight_decay"):
        TrainConfig(weight_decay=-1.0)
