"""ABS through genmodels' VAE: one genmodels VAE per class, resumable, and an ABS classifier that learns the digits."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from robust.defenses.abs_model import ABS, ABSConfig, fit_abs_genmodels


def test_genmodels_vaes_make_an_abs_classifier_that_learns_the_digits_and_resume(digits, tmp_path):
    config = ABSConfig(image_shape=(1, 8, 8), data="digits", epochs=1, batch_size=8)
    decoders, history = fit_abs_genmodels(digits, config, tmp_path)
    assert len(decoders) == 10 and len(history) == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"class{c}.safetensors" for c in range(10))
    z = torch.randn(3, config.latent)
    assert decoders[0](z).shape == (3, 64)
    abs_model = ABS(decoders, config.latent, (1, 8, 8), samples=200, steps=5)
    with torch.no_grad():
        accuracy = float((abs_model(digits.x_test).argmax(1) == digits.y_test).float().mean())
    assert accuracy > 0.6  # chance is 0.1
    again, _ = fit_abs_genmodels(digits, config, tmp_path)  # resumed from the finished checkpoints
    assert all(torch.equal(a(z), b(z)) for a, b in zip(decoders, again, strict=True))


def test_data_that_does_not_fit_the_config_is_refused(digits):
    with pytest.raises(InputError, match="does not fit"):
        fit_abs_genmodels(digits, ABSConfig())
