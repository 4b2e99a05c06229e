"""Learned confidence: hints equal the formula, the budget rule, AUROC / FPR95 against scikit-learn, detectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score, roc_curve
from torch.nn import functional as F

from core.errors import InputError
from vision_attention.confidence.config import ConfidenceConfig, OodConfig
from vision_attention.confidence.data import load_ood_data
from vision_attention.confidence.loss import augment, confidence_loss, hint_probabilities, update_lambda
from vision_attention.confidence.metrics import auroc, fpr_at_tpr
from vision_attention.confidence.models import ConfidenceCNN
from vision_attention.confidence.scores import detector_scores
from vision_attention.confidence.study import accuracy, train_confidence
from vision_attention.config import TrainConfig


def test_hints_equal_c_p_plus_one_minus_c_y_by_hand():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    c = torch.tensor([0.25, 1.0])
    y = torch.tensor([1, 2])
    expected = torch.tensor([[0.175, 0.05 + 0.75, 0.025], [0.1, 0.3, 0.6]])
    torch.testing.assert_close(hint_probabilities(p, c, y), expected)
    assert torch.allclose(hint_probabilities(p, c, y).sum(1), torch.ones(2))


def test_budget_rule_raises_lambda_above_the_budget_and_lowers_it_below():
    config = ConfidenceConfig(budget=0.3, lambda_step=0.01)
    assert update_lambda(0.1, 0.5, config) == pytest.approx(0.1 / 0.99)
    assert update_lambda(0.1, 0.2, config) == pytest.approx(0.1 / 1.01)


def test_loss_without_hints_is_cross_entropy_plus_lambda_log_c_and_advances_the_state():
    config = ConfidenceConfig(classes=3, width=2, hidden=8, hint_fraction=0.0, shift=0, cutout=0)
    model = ConfidenceCNN(config)
    images, labels = (
        torch.rand(5, 1, 8, 8, generator=torch.Generator().manual_seed(0)),
        torch.tensor([0, 1, 2, 0, 1]),
    )
    logits, c = model(images)
    expected = F.cross_entropy(logits, labels) + 0.1 * (-torch.log(c)).mean()
    torch.testing.assert_close(confidence_loss(model, (images, labels), config, seed=0), expected)
    assert int(model.step) == 1 and float(model.lmbda) != pytest.approx(0.1)


def test_auroc_and_fpr95_equal_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    inside, outside = rng.integers(0, 20, 301).astype(float), rng.integers(-5, 15, 203).astype(float)
    labels = np.r_[np.ones(301), np.zeros(203)]
    scores = np.r_[inside, outside]
    assert auroc(inside, outside) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    assert fpr_at_tpr(inside, outside) == pytest.approx(fpr[tpr >= 0.95].min(), abs=1e-12)
    assert auroc([2.0, 3.0], [0.0, 1.0]) == 1.0 and fpr_at_tpr([2.0, 3.0], [0.0, 1.0]) == 0.0


def test_detectors_at_zero_epsilon_are_the_plain_scores_and_perturbation_raises_them():
    model = ConfidenceCNN(ConfidenceConfig(classes=3, width=2, hidden=8)).eval()
    images = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    logits, c = model(images)
    torch.testing.assert_close(detector_scores(model, images, "confidence"), c.detach())
    plain = F.softmax(logits, 1).max(1).values.detach()
    torch.testing.assert_close(detector_scores(model, images, "odin", temperature=1.0), plain)
    moved = detector_scores(model, images, "confidence", epsilon=1e-3)
    assert (moved >= c.detach() - 1e-7).all() and (moved > c.detach()).any()


def test_augment_keeps_shape_and_is_seeded():
    images = torch.rand(4, 1, 8, 8)
    a = augment(images, torch.Generator().manual_seed(3), shift=2, cutout=3)
    b = augment(images, torch.Generator().manual_seed(3), shift=2, cutout=3)
    assert a.shape == images.shape and torch.equal(a, b) and not torch.equal(a, images)


def test_confidence_net_learns_digits_and_resumes_bit_identically(tmp_path):
    data = load_ood_data("digits", count=20, seed=0, sets=("uniform noise",))
    net = ConfidenceConfig(classes=5, width=8, hidden=32, shift=0, cutout=2)
    train = TrainConfig(model="c", epochs=3, batch_size=32, learning_rate=5e-3)
    whole = train_confidence(net, train, data)
    assert accuracy(whole, data.test_images, data.test_labels) >= 0.8  # chance 0.2
    path = tmp_path / "c.safetensors"
    train_confidence(net, TrainConfig(**{**train.__dict__, "epochs": 1}), data, path)
    resumed = train_confidence(net, train, data, path)
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(InputError, match="hints need"):
        hint_probabilities(torch.ones(2, 3), torch.ones(3), torch.zeros(2, dtype=torch.long))
    with pytest.raises(InputError, match="unknown OoD detector"):
        detector_scores(ConfidenceCNN(ConfidenceConfig(classes=2)), torch.zeros(1, 1, 8, 8), "energy")
    with pytest.raises(InputError, match="need in- and out"):
        auroc([], [1.0])
    with pytest.raises(InputError, match="hint_fraction"):
        ConfidenceConfig(hint_fraction=1.5)
    with pytest.raises(InputError, match="unknown OoD set"):
        load_ood_data("digits", sets=("svhn",))
    with pytest.raises(InputError, match="epsilons"):
        OodConfig(epsilons=(-1.0,))
