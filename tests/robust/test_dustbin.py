"""Dustbin training: the letters it is trained on, the detector's rule, the adaptive attack's loss,
and a tiny dustbin net that rejects letters of unseen fonts but keeps the digits."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.defenses.dustbin import Dustbin, DustbinAwarePGD, font_files, render_letters, with_dustbin

from .conftest import linear_model


def test_letters_are_reproducible_glyphs_in_the_unit_range():
    fonts = font_files()[:3]
    a, b = render_letters(20, fonts, size=16, seed=4), render_letters(20, fonts, size=16, seed=4)
    assert a.shape == (20, 1, 16, 16) and torch.equal(a, b)
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    ink = (a > 0.5).flatten(1).float().mean(1)
    assert bool((ink > 0.03).all()) and bool((ink < 0.6).all())  # every image holds a glyph
    assert not torch.equal(a, render_letters(20, fonts, size=16, seed=5))
    with pytest.raises(InputError, match="at least one font"):
        render_letters(3, [])


def test_with_dustbin_appends_the_letters_as_one_more_class(digits):
    letters = render_letters(30, font_files()[:2], size=8)
    data = with_dustbin(digits, letters, letters[:10])
    assert data.num_classes == 11 and data.name == "digits+dustbin"
    assert len(data.x_train) == len(digits.x_train) + 30 and (data.y_train[-30:] == 10).all()
    assert len(data.x_test) == len(digits.x_test) + 10 and (data.y_test[-10:] == 10).all()
    with pytest.raises(InputError, match="train_out"):
        with_dustbin(digits, torch.zeros(3, 1, 28, 28), letters)


def test_the_detector_rejects_where_the_dustbin_wins_and_the_adaptive_loss_avoids_it():
    weight = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])  # class 2 is the dustbin
    detector = Dustbin(linear_model(weight, torch.zeros(3)))
    x = torch.tensor([[0.9, 0.1, 0.0, 0.0], [0.1, 0.2, 0.8, 0.0]]).view(2, 1, 2, 2)
    assert detector(x).shape == (2, 2)
    assert detector.reject(x).tolist() == [False, True]
    attack = DustbinAwarePGD(detector, eps=0.1, alpha=0.02, steps=3)
    logits = detector.full(x.flatten(1).view(2, 1, 2, 2))
    p = logits.softmax(1)
    y = torch.tensor([0, 1])
    expected = -torch.log(p[torch.arange(2), y] + p[:, 2])
    assert torch.allclose(attack.loss(logits, y), expected, atol=1e-6)
    with pytest.raises(InputError, match="Dustbin detector"):
        DustbinAwarePGD(nn.Linear(4, 2))


def test_a_dustbin_net_rejects_letters_of_unseen_fonts_and_keeps_the_digits(digits):
    from robust.config import ModelConfig, TrainConfig
    from robust.train import fit

    fonts = font_files()
    held_out = fonts[::3]
    seen = [f for f in fonts if f not in held_out]
    data = with_dustbin(
        digits, render_letters(400, seen, size=8, seed=0), render_letters(200, held_out, size=8, seed=1)
    )
    config = TrainConfig(
        model=ModelConfig("mlp", image_size=8, num_classes=11, widths=(64,)),
        data=data.name,
        epochs=6,
        batch_size=32,
    )
    network, _ = fit(data, config)
    detector = Dustbin(network)
    with torch.no_grad():
        letters_rejected = float(detector.reject(data.x_test[-200:]).float().mean())
        digits_rejected = float(detector.reject(digits.x_test).float().mean())
        accuracy = float((detector(digits.x_test).argmax(1) == digits.y_test).float().mean())
    assert letters_rejected > 0.7 and digits_rejected < 0.1 and accuracy > 0.85
