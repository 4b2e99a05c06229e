"""Training defenses: they learn what they claim, resume bit-identically, refuse a changed config."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from robust.attacks.universal import fit_deepfool_universal, fit_universal_perturbation, fooling_rate
from robust.config import ModelConfig, TrainConfig
from robust.defenses import DefenseConfig, fit_defense, load_defense
from robust.evaluate import evaluate

from .conftest import Crash, crash_at

_TRAIN = TrainConfig(
    model=ModelConfig("mlp", image_size=8, widths=(64, 64)), data="digits", epochs=15, batch_size=32
)


@pytest.mark.parametrize("recipe", ["alp", "universal-fp", "ibp", "noise"])
def test_defense_training_resumes_from_its_checkpoint_exactly(tmp_path, digits, recipe):
    train = TrainConfig(
        model=ModelConfig("mlp", image_size=8, widths=(16,)), data="digits", epochs=3, batch_size=256
    )
    config = DefenseConfig(
        train=train,
        recipe=recipe,
        eps=0.1,
        alpha=0.05,
        steps=2,
        fp_images=200,
        fp_epochs=1,
        ibp_warmup_steps=3,
        ibp_ramp_steps=6,
    )
    reference, reference_history = fit_defense(digits, config)
    path = tmp_path / "run.safetensors"
    with pytest.raises(Crash):
        fit_defense(digits, config, checkpoint=path, callback=crash_at(2))
    resumed, history = fit_defense(digits, config, checkpoint=path)
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    strip = [{k: v for k, v in row.items() if k != "train_seconds"} for row in history]
    assert strip == [{k: v for k, v in row.items() if k != "train_seconds"} for row in reference_history]
    with pytest.raises(CheckpointMismatchError, match="eps"):
        fit_defense(digits, replace(config, eps=0.2), path)
    model, saved = load_defense(path)
    assert saved == config and torch.equal(model(digits.x_test[:4]), resumed(digits.x_test[:4]))


def test_pgd_adversarial_training_is_more_robust_than_clean_training(digits_mlp, digits):
    config = DefenseConfig(train=_TRAIN, recipe="pgd", eps=0.1, alpha=0.025, steps=7)
    defended, history = fit_defense(digits, config)
    attack = ("pgd", {"eps": 0.1, "alpha": 0.025, "steps": 10})
    clean = evaluate(digits_mlp, digits, [attack]).rows[0]["robust_accuracy"]
    robust = evaluate(defended, digits, [attack]).rows[0]["robust_accuracy"]
    assert robust > clean + 0.2  # measured: 0.76 against 0.42
    assert history[-1]["test_accuracy"] > 0.9


def test_fictitious_play_universal_training_resists_a_fresh_universal_perturbation(digits_mlp, digits):
    eps = 0.15
    config = DefenseConfig(train=_TRAIN, recipe="universal-fp", eps=eps, fp_images=600)
    defended, history = fit_defense(digits, config)
    assert "best_response_fooling_rate_train" in history[-1] and history[-1]["test_accuracy"] > 0.9
    rates = []
    for model in (digits_mlp, defended):
        v = fit_universal_perturbation(model, digits.x_train[:600], digits.y_train[:600], eps, epochs=4)
        rates.append(fooling_rate(model, digits.x_test, v.perturbation))
    assert rates[1] < rates[0] - 0.1  # measured: 0.16 against 0.33


def test_universal_adversarial_training_keeps_its_perturbation_in_the_ball_and_learns(digits):
    eps = 0.15
    config = DefenseConfig(train=_TRAIN, recipe="universal", eps=eps, universal_alpha=0.003)
    _, history = fit_defense(digits, config)
    assert history[-1]["test_accuracy"] > 0.85
    assert 0.0 <= history[-1]["universal_fooling_rate_train"] < 1.0


def test_deepfool_universal_perturbation_beats_random_signs_on_held_out_images(digits_mlp, digits):
    eps = 0.15
    result = fit_deepfool_universal(digits_mlp, digits.x_train[:300], eps, max_passes=2, batch_size=50)
    v = result.perturbation
    assert float(v.abs().max()) <= eps + 1e-7 and result.gradient_calls > 0
    random_signs = eps * torch.sign(torch.randn(v.shape, generator=torch.Generator().manual_seed(0)))
    assert (
        fooling_rate(digits_mlp, digits.x_test, v)
        > fooling_rate(digits_mlp, digits.x_test, random_signs) + 0.15
    )
    l2 = fit_deepfool_universal(digits_mlp, digits.x_train[:100], 1.0, norm="l2", max_passes=1, batch_size=50)
    assert float(l2.perturbation.norm()) <= 1.0 + 1e-5


def test_bad_defense_configs_are_refused_by_name():
    with pytest.raises(InputError, match="unknown defense recipe"):
        DefenseConfig(recipe="jpeg")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="eps must be >= 0"):
        DefenseConfig(eps=-0.1)
    with pytest.raises(InputError, match="steps must be an integer >= 1"):
        DefenseConfig(steps=0)
    with pytest.raises(InputError, match="universal adversarial training is L-inf"):
        DefenseConfig(recipe="universal", norm="l2")
    with pytest.raises(InputError, match="delta must lie in"):
        fit_deepfool_universal(torch.nn.Flatten(), torch.rand(2, 1, 2, 2), 0.1, delta=2.0)
