"""Training the reference models: it learns, it resumes bit-identically, it refuses a changed config."""

from __future__ import annotations

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from robust.config import ModelConfig, TrainConfig
from robust.models import accuracy, build_model
from robust.train import fit, load_model

from .conftest import Crash, crash_at

_TINY = ModelConfig("mlp", image_size=8, widths=(32,))


def test_training_beats_chance_by_a_wide_margin(digits_mlp, digits):
    assert accuracy(digits_mlp, digits.x_test, digits.y_test) > 0.9  # chance is 0.1


def test_training_resumes_from_its_checkpoint_exactly(tmp_path, digits):
    config = TrainConfig(model=_TINY, data="digits", epochs=3, batch_size=64)
    reference, reference_history = fit(digits, config)
    path = tmp_path / "run.safetensors"
    with pytest.raises(Crash):
        fit(digits, config, checkpoint=path, callback=crash_at(2))  # dies after epoch 2's checkpoint
    resumed, history = fit(digits, config, checkpoint=path)
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    strip = [{k: v for k, v in row.items() if k != "train_seconds"} for row in history]
    assert strip == [{k: v for k, v in row.items() if k != "train_seconds"} for row in reference_history]
    longer, more = fit(
        digits, TrainConfig(model=_TINY, data="digits", epochs=4, batch_size=64), checkpoint=path
    )
    assert [row["epoch"] for row in more] == [1, 2, 3, 4]  # epochs is extendable
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit(digits, TrainConfig(model=_TINY, data="digits", epochs=4, batch_size=64, learning_rate=0.1), path)
    with pytest.raises(CheckpointMismatchError, match="widths"):
        fit(
            digits,
            TrainConfig(
                model=ModelConfig("mlp", image_size=8, widths=(16,)), data="digits", epochs=4, batch_size=64
            ),
            path,
        )
    model, saved = load_model(path)
    assert saved.epochs == 4 and torch.equal(model(digits.x_test[:5]), longer(digits.x_test[:5]))


def test_training_refuses_data_that_does_not_fit_the_config(digits):
    with pytest.raises(InputError, match="images are 1x8x8 but the model config expects 1x28x28"):
        fit(digits, TrainConfig(model=ModelConfig("mlp"), data="digits"))
    with pytest.raises(InputError, match="does not match the config"):
        fit(digits, TrainConfig(model=_TINY, data="mnist5000"))
    with pytest.raises(InputError, match="epochs must be >= 1"):
        TrainConfig(epochs=0)
    with pytest.raises(InputError, match="unknown architecture"):
        ModelConfig("resnet")  # type: ignore[arg-type]


@pytest.mark.parametrize("architecture", ["cnn", "lenet", "mlp"])
def test_every_architecture_maps_images_to_logits(architecture):
    for channels, size in ((1, 28), (3, 32), (1, 8)):
        model = build_model(ModelConfig(architecture, in_channels=channels, image_size=size, num_classes=7))
        assert model(torch.rand(2, channels, size, size)).shape == (2, 7)
    assert ModelConfig("cnn").resolved_widths() == (32, 64, 1024)  # Madry et al.'s MNIST net
