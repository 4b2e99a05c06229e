"""Deep k-nearest neighbours: brute-force neighbours, conformal calibration, credibility under attack,
the rejection columns of `evaluate`, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import InputError
from robust.attacks import FGSM
from robust.defenses.dknn import DkNN, default_layers
from robust.evaluate import evaluate

CALIBRATION = 160  # the first test images calibrate the `dknn` fixture (conftest.DKNN_CALIBRATION)
"""The first test images calibrate; the rest (200) are held out."""


def test_default_layers_are_every_relu_and_the_logits(digits_mlp):
    assert default_layers(digits_mlp) == (2, 4, 5)  # Flatten, Linear, ReLU, Linear, ReLU, Linear
    assert default_layers(nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU())) == (2,)


def test_nonconformity_and_p_values_match_brute_force(dknn, digits_mlp, digits):
    x = digits.x_test[CALIBRATION : CALIBRATION + 12]
    with torch.no_grad():
        h_train, h_x = digits.x_train, x
        brute_labels = []
        for index, layer in enumerate(digits_mlp):
            h_train, h_x = layer(h_train), layer(h_x)
            if index in dknn.layers:
                distance = torch.cdist(h_x.flatten(1).double(), h_train.flatten(1).double())
                brute_labels.append(digits.y_train[distance.topk(10, largest=False).indices])
    labels = torch.stack(brute_labels, 1).reshape(len(x), -1)  # (n, layers * k)
    alpha = torch.stack([(labels != j).sum(1) for j in range(10)], 1)
    assert torch.equal(torch.from_numpy(dknn.nonconformity(x)), alpha)
    reference = dknn.calibration
    p = torch.tensor([[float((reference >= a).mean()) for a in row] for row in alpha.tolist()])
    out = dknn.explain(x)
    assert torch.allclose(out.p_values, p)
    assert torch.equal(out.prediction, p.argmax(1))
    assert torch.allclose(out.credibility, p.max(1).values)
    assert torch.allclose(out.confidence, 1 - p.sort(1, descending=True).values[:, 1])
    assert torch.equal(dknn(x).argmax(1), out.prediction)


def test_calibration_gives_valid_p_values_on_held_out_clean_data(dknn, digits):
    x, y = digits.x_test[CALIBRATION:], digits.y_test[CALIBRATION:]
    out = dknn.explain(x)
    p_true = out.p_values[torch.arange(len(y)), y]
    # conformal validity: P(p_true <= q) <= q (equality without ties; most alphas tie at 0 here,
    # which makes the p-values conservative). 200 held-out draws: sd <= 0.035.
    for q in (0.05, 0.1, 0.25, 0.5):
        assert float((p_true <= q).float().mean()) <= q + 0.07
    # the held-out true-class nonconformity follows the calibration distribution (two-sample KS)
    alpha_true = out.nonconformity[torch.arange(len(y)), y].double()
    grid = torch.arange(0, int(alpha_true.max()) + 2, dtype=torch.float64)
    reference = torch.from_numpy(dknn.calibration).double()
    held_out_cdf = (alpha_true[:, None] <= grid).double().mean(0)
    calibration_cdf = (reference[:, None] <= grid).double().mean(0)
    assert float((held_out_cdf - calibration_cdf).abs().max()) < 0.15  # KS 5% critical value ~0.145
    assert float((out.prediction == y).float().mean()) > 0.9


def test_credibility_is_lower_on_adversarial_inputs_and_rejection_keeps_its_clean_rate(
    dknn, digits_mlp, digits
):
    x, y = digits.x_test[CALIBRATION:], digits.y_test[CALIBRATION:]
    attack = FGSM(digits_mlp, eps=0.2)
    table = evaluate(dknn, (x, y), [attack])
    row = table.rows[0]
    # a detector keeps its configured false-positive rate on clean data (0.1; 200 images: sd 0.02)
    assert row["clean_rejection_rate"] <= 0.1 + 0.06
    x_adv = attack(x, y)
    clean, adversarial = dknn.credibility(x), dknn.credibility(x_adv)
    assert float(adversarial.mean()) < float(clean.mean()) - 0.2  # the paper's finding
    assert row["adversarial_rejection_rate"] > row["clean_rejection_rate"] + 0.2
    rejected = dknn.reject(x_adv)
    robust = dknn(x_adv).argmax(1) == y
    assert row["adversarial_rejection_rate"] == pytest.approx(float(rejected.float().mean()))
    assert row["accepted_robust_accuracy"] == pytest.approx(float(robust[~rejected].float().mean()))
    assert row["robust_or_rejected"] == pytest.approx(float((robust | rejected).float().mean()))


def test_evaluate_builds_named_attacks_on_the_attack_model(dknn, digits_mlp, digits):
    x, y = digits.x_test[CALIBRATION : CALIBRATION + 40], digits.y_test[CALIBRATION : CALIBRATION + 40]
    table = evaluate(dknn, (x, y), [("fgsm", {"eps": 0.2})], attack_model=digits_mlp)
    assert {"clean_rejection_rate", "accepted_clean_accuracy"} <= set(table.rows[0])
    plain = evaluate(digits_mlp, (x, y), ["fgsm"])
    assert "clean_rejection_rate" not in plain.rows[0]


def test_bad_input_is_refused(digits_mlp, digits):
    x, y = digits.x_train[:50], digits.y_train[:50]
    with pytest.raises(InputError, match=r"nn\.Sequential"):
        DkNN(nn.Identity(), x, y, x, y)
    with pytest.raises(InputError, match="k must be <="):
        DkNN(digits_mlp, x, y, x, y, k=51)
    with pytest.raises(InputError, match="y_train must be an int64"):
        DkNN(digits_mlp, x, y.float(), x, y, k=5)
    with pytest.raises(InputError, match="y_calibration must be an int64"):
        DkNN(digits_mlp, x, y, x, y[:3], k=5)
    with pytest.raises(InputError, match="layer indices"):
        DkNN(digits_mlp, x, y, x, y, k=5, layers=(9,))
    with pytest.raises(InputError, match="reject_below"):
        DkNN(digits_mlp, x, y, x, y, k=5, reject_below=1.5)
    with pytest.raises(InputError, match="non-empty calibration"):
        DkNN(digits_mlp, x, y, x[:0], y[:0], k=5)
    assert np.isfinite(DkNN(digits_mlp, x, y, x, y, k=5).calibration).all()
