"""Adversarial robustness and codimension (Khoury & Hadfield-Menell 2019; summary sec. 15).

Two concentric circles (radii 1 and 2, so an L2 perturbation below 0.5 can never cross the ideal
boundary) lie in a 2-D plane of ``R^d``, rotated by a random orthogonal matrix; the codimension is
``d - 2``. `study` trains the same ReLU MLP with and without L2 PGD adversarial training at each
codimension and measures robust accuracy under L2 PGD (`pgd_l2`, written out here because
`robust.attacks` takes images in [0, 1]). The paper: robustness of standardly trained classifiers
falls as codimension grows, since the normal space of the manifold offers more directions in which
the decision boundary is close; adversarial training at a fixed sample size helps less there.

`sample_study` is the sample-complexity half (the paper's Theorems on adversarial training vs
nearest neighbours): L2-PGD adversarial training at eps 0.3 on growing training sets at each
codimension, next to the 1-nearest-neighbour classifier on the same points (`nearest_neighbour_robust`:
an exact certificate, half the gap between the nearest other-class and same-class training point,
and an attack stepping towards the nearest other-class points). The paper: adversarial training
needs more samples to become robust as codimension grows, nearest neighbours do not (their training
points lie on the manifold, so a perturbation normal to it moves every distance alike).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["CODIMENSION", "SAMPLES", "circles", "nearest_neighbour_robust", "pgd_l2", "sample_study", "study"]

CODIMENSION = {
    "smoke": {
        "codims": (0, 8, 48, 198),
        "train": 1000,
        "test": 500,
        "steps": 400,
        "eps": 0.3,
        "seeds": 2,
        "attack_eps": (0.3, 0.4, 0.45, 0.49),
    },
    "full": {
        "codims": (0, 8, 48, 198, 998),
        "train": 10000,
        "test": 2000,
        "steps": 3000,
        "eps": 0.3,
        "seeds": 5,
        "attack_eps": (0.3, 0.4, 0.45, 0.49),
    },
}
"""Codimensions, training / test points, full-batch Adam steps, L2 eps of adversarial training, seeds,
L2 eps of the evaluation attacks (all below the half-gap 0.5)."""

SAMPLES = {
    "smoke": {"codims": (0, 48, 198), "sizes": (30, 100, 1000), "test": 500, "steps": 400, "eps": 0.3,
              "seeds": 2, "attack_eps": (0.3, 0.45)},
    "full": {"codims": (0, 48, 198, 998), "sizes": (30, 100, 300, 1000, 3000), "test": 2000,
             "steps": 1000, "eps": 0.3, "seeds": 3, "attack_eps": (0.3, 0.4, 0.45)},
}  # fmt: skip
"""The sample-complexity sweep (`sample_study`): codimensions, training-set sizes, test points,
full-batch Adam steps, adversarial-training eps, seeds and evaluation eps."""


def circles(n: int, codim: int, rotation: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``n`` points uniform in angle on circle 1 (label 0) or 2 (label 1) in ``R^(2 + codim)``, rotated."""
    y = torch.randint(0, 2, (n,), generator=generator)
    angle = 2 * torch.pi * torch.rand(n, generator=generator)
    radius = 1.0 + y.float()
    x = torch.zeros(n, 2 + codim)
    x[:, 0], x[:, 1] = radius * torch.cos(angle), radius * torch.sin(angle)
    return x @ rotation.T, y


def pgd_l2(model: nn.Module, x: Tensor, y: Tensor, eps: float, steps: int = 20) -> Tensor:
    """L2 PGD on the cross-entropy: normalised-gradient steps of 2.5 eps / steps, projected on the ball."""
    delta = torch.zeros_like(x)
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = nn.functional.cross_entropy(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            delta = delta + 2.5 * eps / steps * grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
            delta = delta * (eps / delta.norm(dim=1, keepdim=True).clamp_min(eps))
    return (x + delta).detach()


def nearest_neighbour_robust(
    x_train: Tensor, y_train: Tensor, x: Tensor, y: Tensor, eps: float, candidates: int = 10
) -> tuple[Tensor, Tensor, Tensor]:
    """1-NN on ``(x_train, y_train)`` at ``x``: ``(correct, certified, survives_attack)``, each ``(n,)`` bool.

    ``certified``: correct and ``(d_other - d_same) / 2 >= eps`` (by the triangle inequality no point
    within ``eps`` is nearer an other-class point; a lower bound on robustness). ``survives_attack``:
    correct, and still correct after moving ``eps`` straight towards each of the ``candidates`` nearest
    other-class points (an upper bound). Ties count as errors.
    """

    def predict(points: Tensor) -> Tensor:
        return y_train[torch.cdist(points, x_train).argmin(1)]

    distances = torch.cdist(x, x_train)
    same = y_train[None, :] == y[:, None]
    d_same = distances.masked_fill(~same, float("inf")).amin(1)
    d_other = distances.masked_fill(same, float("inf"))
    correct = d_same < d_other.amin(1)
    certified = correct & ((d_other.amin(1) - d_same) / 2 >= eps)
    survives = correct.clone()
    nearest = d_other.topk(min(candidates, int((~same).sum(1).min())), dim=1, largest=False).indices
    for j in range(nearest.shape[1]):
        direction = x_train[nearest[:, j]] - x
        moved = x + eps * direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
        survives &= predict(moved) == y
    return correct, certified, survives


def _fit(x: Tensor, y: Tensor, eps: float, steps: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        xb = pgd_l2(model, x, y, eps, steps=5) if eps else x
        loss = nn.functional.cross_entropy(model(xb), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def study(options: RunOptions) -> list[ResultTable]:
    """Clean and L2-PGD robust accuracy of standard and adversarially trained MLPs against codimension."""
    from core.plots import new_figure, save_figure

    budget = CODIMENSION[options.scale]
    eps = budget["eps"]
    table = ResultTable(
        "codimension",
        title="Khoury & Hadfield-Menell: robust accuracy under L2 PGD against codimension",
        data=(
            f"simulated: circles of radius 1 and 2 in a random 2-plane of R^(2+k); {budget['train']} train / "
            f"{budget['test']} test points, mean over {budget['seeds']} seeds"
        ),
        notes=(
            "The ideal classifier |x| < 1.5 is robust at every eps < 0.5. Attack: 20-step L2 PGD; adversarial "
            f"training: 5-step L2 PGD at eps {eps} on every full-batch step. Paper: robustness of standard "
            "training falls with codimension; adversarial training needs more samples at high codimension."
        ),
    )
    for codim in budget["codims"]:
        results: dict[str, list[list[float]]] = {"standard": [], "adversarial": []}
        for seed in range(budget["seeds"]):
            generator = torch.Generator().manual_seed(1000 * options.seed + 17 * codim + seed)
            rotation, _ = torch.linalg.qr(torch.randn(2 + codim, 2 + codim, generator=generator))
            x, y = circles(budget["train"], codim, rotation, generator)
            x_test, y_test = circles(budget["test"], codim, rotation, generator)
            for name, train_eps in (("standard", 0.0), ("adversarial", eps)):
                model = _fit(x, y, train_eps, budget["steps"], seed)
                accuracies = []
                for attack_eps in (0.0, *budget["attack_eps"]):
                    x_adv = pgd_l2(model, x_test, y_test, attack_eps) if attack_eps else x_test
                    with torch.no_grad():
                        accuracies.append(float((model(x_adv).argmax(1) == y_test).float().mean()))
                results[name].append(accuracies)
        for name, values in results.items():
            mean = np.mean(values, axis=0)
            for attack_eps, accuracy in zip(budget["attack_eps"], mean[1:], strict=True):
                table.add(
                    codimension=codim,
                    training=name,
                    attack_eps=attack_eps,
                    clean_accuracy=float(mean[0]),
                    robust_accuracy=float(accuracy),
                )
    options.publish(table)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    for name in ("standard", "adversarial"):
        for attack_eps in budget["attack_eps"]:
            rows = [r for r in table.rows if r["training"] == name and r["attack_eps"] == attack_eps]
            axis.plot(
                [r["codimension"] for r in rows],
                [r["robust_accuracy"] for r in rows],
                "o-" if name == "standard" else "x--",
                label=f"{name}, eps {attack_eps}",
            )
    axis.set(xlabel="codimension", xscale="symlog", ylabel="L2 PGD robust accuracy", title="two circles")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "codimension.png")
    return [table, *sample_study(options)]


def sample_study(options: RunOptions) -> list[ResultTable]:
    """Robust accuracy of adversarial training and 1-NN against training-set size and codimension."""
    from core.plots import new_figure, save_figure
    from core.progress import progress

    budget = SAMPLES[options.scale]
    eps, attack_eps = budget["eps"], budget["attack_eps"]
    table = ResultTable(
        "codimension_samples",
        title="Khoury & Hadfield-Menell: robust accuracy against training-set size and codimension",
        data=(
            f"simulated: circles of radius 1 and 2 in a random 2-plane of R^(2+k); {budget['test']} test points, "
            f"mean over {budget['seeds']} seeds"
        ),
        notes=(
            f"adversarial MLP: 128-128 ReLU, {budget['steps']} full-batch Adam steps on 5-step L2 PGD at eps {eps}, "
            "attacked by 20-step L2 PGD. 1-NN certified: half the gap between the nearest other-class and "
            "same-class training points >= eps (a lower bound on robust accuracy); 1-NN attack: eps straight towards "
            "each of the 10 nearest other-class points (an upper bound). Paper: adversarial training needs more "
            "samples as codimension grows; nearest neighbours do not."
        ),
    )
    cells = [(c, n, s) for c in budget["codims"] for n in budget["sizes"] for s in range(budget["seeds"])]
    results: dict[tuple[int, int, str], list[list[float]]] = {}
    for codim, size, seed in progress(cells, desc="codimension samples", total=len(cells)):
        generator = torch.Generator().manual_seed(1000 * options.seed + 17 * codim + seed + 7)
        rotation, _ = torch.linalg.qr(torch.randn(2 + codim, 2 + codim, generator=generator))
        x_test, y_test = circles(budget["test"], codim, rotation, generator)
        x, y = circles(size, codim, rotation, generator)
        model = _fit(x, y, eps, budget["steps"], seed)
        row = []
        for e in (0.0, *attack_eps):
            x_adv = pgd_l2(model, x_test, y_test, e) if e else x_test
            with torch.no_grad():
                row.append(float((model(x_adv).argmax(1) == y_test).float().mean()))
        results.setdefault((codim, size, f"adversarial MLP (eps {eps})"), []).append(row)
        certified, attacked = [], []
        for e in attack_eps:
            correct, cert, survives = nearest_neighbour_robust(x, y, x_test, y_test, e)
            certified.append(float(cert.float().mean()))
            attacked.append(float(survives.float().mean()))
        clean = float(correct.float().mean())
        results.setdefault((codim, size, "1-NN (attack)"), []).append([clean, *attacked])
        results.setdefault((codim, size, "1-NN (certified)"), []).append([clean, *certified])
    for (codim, size, name), values in results.items():
        mean = np.mean(values, axis=0)
        table.add(
            codimension=codim,
            train_size=size,
            classifier=name,
            clean_accuracy=float(mean[0]),
            **{f"robust_eps_{e:g}": float(v) for e, v in zip(attack_eps, mean[1:], strict=True)},
        )
    options.publish(table)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    key = f"robust_eps_{max(attack_eps):g}"
    for codim in budget["codims"]:
        for name, style in ((f"adversarial MLP (eps {eps})", "o-"), ("1-NN (certified)", "x--")):
            rows = [r for r in table.rows if r["codimension"] == codim and r["classifier"] == name]
            axis.plot(
                [r["train_size"] for r in rows], [r[key] for r in rows], style, label=f"{name}, codim {codim}"
            )
    axis.set(xlabel="training points", xscale="log", ylabel=f"robust accuracy, L2 eps {max(attack_eps):g}",
             title="sample complexity: adversarial training vs 1-NN")  # fmt: skip
    axis.legend(fontsize=6)
    save_figure(figure, Path(options.out) / "codimension_samples.png")
    return [table]
