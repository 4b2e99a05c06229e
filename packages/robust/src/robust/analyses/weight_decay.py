"""Adversarial training vs weight decay: scaling vs shifting (Galloway et al. 2018; summary sec. 23).

For a linear score ``f(x) = w.x + b`` and labels ``y in {-1, +1}``, ``y f(x) = ||w|| y d(x)`` with
``d(x) = f(x) / ||w||`` the signed Euclidean distance to the boundary. The logistic (softplus) loss
``softplus(-y f)`` is then a function of the margin ``y d`` scaled by ``||w||``: an L2 weight decay
controls that scale. The exact L2 adversary moves ``x`` to ``x - eps y w / ||w||``, so adversarial
training minimises ``softplus(-||w|| (y d - eps))``: the margins are shifted by ``eps``
(`shifted_loss`, checked against the explicit adversarial examples in the tests). In a network the
same two effects act on the logits: decaying the weights lowers the logit scale (a softmax
temperature) and adversarial training lowers the correct class's probability.

`study` trains (1) logistic regression on two MNIST-5000 classes with weight decay or exact L2
adversarial training, and reports the decomposition of each learned ``(w, b)`` into scale ``||w||``
and direction, the margin quantiles of ``y d(x)`` and the exact L2 robust accuracy; and (2) small
ReLU MLPs on MNIST-5000 with weight decay or L-inf PGD adversarial training, with their logit scale,
correct-class probability, DeepFool L2 margin and PGD accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = [
    "WEIGHT_DECAY",
    "adversarial_examples",
    "fit_logistic",
    "linear_robust_accuracy",
    "shifted_loss",
    "signed_distance",
    "study",
]

WEIGHT_DECAY = {
    "smoke": {
        "classes": (3, 8),
        "steps": 1500,
        "decays": (1e-3, 1e-2, 1e-1),
        "train_eps": (0.5, 1.0, 2.0),
        "eval_eps": (0.5, 1.0, 2.0, 3.0),
        "mlp_widths": (100, 100),
        "mlp_epochs": 10,
        "mlp_decays": (1e-3, 1e-2),
        "mlp_eps": (0.05, 0.1),
        "attack_eps": (0.05, 0.1, 0.2),
        "n_attack": 300,
        "seeds": 1,
    },
    "full": {
        "classes": (3, 8),
        "steps": 5000,
        "decays": (1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1),
        "train_eps": (0.25, 0.5, 1.0, 1.5, 2.0, 3.0),
        "eval_eps": (0.5, 1.0, 1.5, 2.0, 3.0),
        "mlp_widths": (256, 256),
        "mlp_epochs": 40,
        "mlp_decays": (1e-4, 1e-3, 1e-2, 3e-2),
        "mlp_eps": (0.05, 0.1, 0.2, 0.3),
        "attack_eps": (0.05, 0.1, 0.2, 0.3),
        "n_attack": 1000,
        "seeds": 3,
    },
}
"""Linear part: the two classes, full-batch Adam steps, L2 weight decays, L2 eps of adversarial training
and of evaluation. MLP part: widths, epochs, weight decays, L-inf eps of PGD training and of the
evaluation attacks, test images attacked, seeds."""


def signed_distance(x: Tensor, y: Tensor, w: Tensor, b: Tensor | float) -> Tensor:
    """``y (w.x + b) / ||w||``: each point's signed L2 distance to the boundary (positive: correct)."""
    return y * (x @ w + b) / w.norm()


def adversarial_examples(x: Tensor, y: Tensor, w: Tensor, eps: float) -> Tensor:
    """The exact L2 worst case of a linear model: ``x - eps y w / ||w||`` (no pixel box)."""
    return x - eps * y[:, None] * (w / w.norm())[None, :]


def shifted_loss(x: Tensor, y: Tensor, w: Tensor, b: Tensor | float, eps: float) -> Tensor:
    """Mean ``softplus(-||w|| (y d(x) - eps))``: the adversarial logistic loss as a shifted, scaled margin loss."""
    return nn.functional.softplus(-w.norm() * (signed_distance(x, y, w, b) - eps)).mean()


def fit_logistic(
    x: Tensor, y: Tensor, *, weight_decay: float = 0.0, eps: float = 0.0, steps: int = 1500, lr: float = 0.01
) -> tuple[Tensor, Tensor]:
    """Full-batch Adam on ``shifted_loss(eps) + weight_decay/2 ||w||^2`` from zero; returns ``(w, b)``.

    ``eps = 0`` is plain logistic regression; ``eps > 0`` is exact L2 adversarial training.
    """
    if weight_decay < 0 or eps < 0:
        raise InputError("weight_decay and eps must be >= 0", item=f"weight_decay={weight_decay}, eps={eps}")
    if set(torch.unique(y).tolist()) - {-1.0, 1.0}:
        raise InputError("labels must be -1 or +1", item=sorted(set(torch.unique(y).tolist())))
    w = torch.full((x.shape[1],), 1e-3, requires_grad=True)  # nonzero: ||w|| is not differentiable at 0
    b = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.Adam([w, b], lr=lr)
    for _ in range(steps):
        margin = y * (x @ w + b) - eps * w.norm()
        loss = nn.functional.softplus(-margin).mean() + 0.5 * weight_decay * (w**2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w.detach(), b.detach()


def linear_robust_accuracy(x: Tensor, y: Tensor, w: Tensor, b: Tensor | float, eps: float) -> float:
    """Exact fraction of points correct under every L2 perturbation of norm <= eps (``y d(x) > eps``)."""
    return float((signed_distance(x, y, w, b) > eps).float().mean())


def _binary(data, classes: tuple[int, int]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    def pick(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        keep = (y == classes[0]) | (y == classes[1])
        return x[keep].flatten(1), torch.where(y[keep] == classes[1], 1.0, -1.0)

    return (*pick(data.x_train, data.y_train), *pick(data.x_test, data.y_test))


def _linear_part(options: RunOptions, budget: dict, data) -> tuple[ResultTable, dict]:
    x, y, x_test, y_test = _binary(data, budget["classes"])
    table = ResultTable(
        "weight_decay_linear",
        title=f"Galloway et al.: logistic regression on MNIST-5000 {budget['classes'][0]} vs {budget['classes'][1]}, "
        "weight decay (scaling) vs exact L2 adversarial training (shifting)",
        data=f"mnist5000 classes {budget['classes']}: {len(x)} train / {len(x_test)} test images, flattened",
        notes=(
            "||w|| is the scale of the margin loss, b/||w|| the boundary's offset; margins y d(x) are L2 "
            "distances to the boundary on the training set (q05 / median); cos_to_standard is the cosine of "
            "w with the unregularised w. robust_eps_* is the exact L2 robust test accuracy (y d > eps; no "
            f"pixel box, so a lower bound). Full-batch Adam, {budget['steps']} steps from zero."
        ),
    )
    runs = {"standard": (0.0, 0.0)}
    runs |= {f"weight decay {lam:g}": (lam, 0.0) for lam in budget["decays"]}
    runs |= {f"adversarial eps {e:g}": (0.0, e) for e in budget["train_eps"]}
    w0 = None
    curves = {}
    for name, (lam, eps) in runs.items():
        w, b = fit_logistic(x, y, weight_decay=lam, eps=eps, steps=budget["steps"])
        if w0 is None:
            w0 = w
        margins = signed_distance(x, y, w, b)
        row = {
            "training": name,
            "weight_decay": lam,
            "train_eps": eps,
            "w_norm": float(w.norm()),
            "offset_b_over_norm": float(b / w.norm()),
            "cos_to_standard": float(w @ w0 / (w.norm() * w0.norm())),
            "train_margin_q05": float(margins.quantile(0.05)),
            "train_margin_median": float(margins.median()),
            "clean_train": linear_robust_accuracy(x, y, w, b, 0.0),
            "clean_test": linear_robust_accuracy(x_test, y_test, w, b, 0.0),
        }
        for e in budget["eval_eps"]:
            row[f"robust_eps_{e:g}"] = linear_robust_accuracy(x_test, y_test, w, b, e)
        table.add(**row)
        curves[name] = signed_distance(x_test, y_test, w, b).sort().values.numpy()
    return table, curves


def _mlp_part(options: RunOptions, budget: dict, data) -> ResultTable:
    from robust.analyses.small import mlp, train_classifier
    from robust.attacks import PGD, DeepFool

    n = budget["n_attack"]
    x_eval, y_eval = data.x_test[:n], data.y_test[:n]
    table = ResultTable(
        "weight_decay_mlp",
        title="Galloway et al.: ReLU MLPs on MNIST-5000, weight decay vs L-inf PGD adversarial training",
        data=f"{data.describe()}; attacks on the first {n} test images",
        notes=(
            f"MLP widths {budget['mlp_widths']}, {budget['mlp_epochs']} epochs of Adam (batch 64); weight decay "
            "adds lambda/2 ||theta||^2; adversarial training on 7-step PGD at the stated L-inf eps. logit_norm "
            "is the mean L2 norm of the test logits (the softmax temperature effect), p_correct the mean "
            "correct-class probability on clean training images, deepfool_l2_median the median DeepFool L2 "
            f"distance (input-space margin) of correctly classified test images; PGD: 20 steps. Mean over "
            f"{budget['seeds']} seed(s)."
        ),
    )
    runs = {"standard": (0.0, 0.0)}
    runs |= {f"weight decay {lam:g}": (lam, 0.0) for lam in budget["mlp_decays"]}
    runs |= {f"adversarial eps {e:g}": (0.0, e) for e in budget["mlp_eps"]}
    for name, (lam, eps) in runs.items():
        values: dict[str, list[float]] = {}
        for seed in range(budget["seeds"]):
            model = mlp(784, budget["mlp_widths"], data.num_classes, seed=1000 * options.seed + seed)
            adversary = PGD(model, eps=eps, alpha=eps / 4, steps=7, seed=seed) if eps else None
            train_classifier(
                model,
                data.x_train,
                data.y_train,
                epochs=budget["mlp_epochs"],
                weight_decay=lam,
                adversary=adversary,
                seed=seed,
            )
            with torch.no_grad():
                logits = model(data.x_test)
                train_p = torch.softmax(model(data.x_train), 1).gather(1, data.y_train[:, None])
                correct = model(x_eval).argmax(1) == y_eval
            row = {
                "clean_test": float((logits.argmax(1) == data.y_test).float().mean()),
                "logit_norm": float(logits.norm(dim=1).mean()),
                "p_correct_train": float(train_p.mean()),
            }
            x_df = DeepFool(model, steps=50)(x_eval[correct], y_eval[correct])
            row["deepfool_l2_median"] = float((x_df - x_eval[correct]).flatten(1).norm(dim=1).median())
            for e in budget["attack_eps"]:
                x_adv = PGD(model, eps=e, alpha=e / 4, steps=20, seed=seed)(x_eval, y_eval)
                with torch.no_grad():
                    row[f"pgd_eps_{e:g}"] = float((model(x_adv).argmax(1) == y_eval).float().mean())
            for key, value in row.items():
                values.setdefault(key, []).append(value)
        table.add(
            training=name,
            weight_decay=lam,
            train_eps=eps,
            **{key: float(np.mean(v)) for key, v in values.items()},
        )
    return table


def study(options: RunOptions) -> list[ResultTable]:
    """The linear and the MLP tables, and the figure ``weight_decay.png`` (margin CDFs, robust accuracy)."""
    from core.plots import new_figure, save_figure
    from robust.data import load_dataset

    budget = WEIGHT_DECAY[options.scale]
    torch.manual_seed(options.seed)
    data = load_dataset("mnist5000")
    linear, curves = _linear_part(options, budget, data)
    options.publish(linear)
    network = _mlp_part(options, budget, data)
    options.publish(network)
    figure = new_figure(9, 3.6)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    for i, (name, margins) in enumerate(curves.items()):
        style = "-" if name == "standard" else ("--" if name.startswith("weight") else ":")
        left.plot(margins, np.linspace(0, 1, len(margins)), style, color=f"C{i}", label=name)
    left.set(
        xlabel="test margin y d(x) (L2)", ylabel="fraction below", title="logistic regression", xlim=(-2, 6)
    )
    left.legend(fontsize=6)
    eps = list(WEIGHT_DECAY[options.scale]["eval_eps"])
    for i, row in enumerate(linear.rows):
        style = (
            "o-"
            if row["training"] == "standard"
            else ("s--" if row["training"].startswith("weight") else "x:")
        )
        right.plot(eps, [row[f"robust_eps_{e:g}"] for e in eps], style, color=f"C{i}", label=row["training"])
    right.set(xlabel="L2 eps", ylabel="exact robust test accuracy", title="logistic regression")
    save_figure(figure, Path(options.out) / "weight_decay.png")
    return [linear, network]
