"""``reproduce robust --only analyses``: every study of robust issue 3, and one name per study.

`STUDIES` maps each study's ``--only`` name to its function; `analyses` runs them all. A study run
once in a process is not run again for the same output folder, scale and seed (`run_study`), so a
plain ``reproduce robust`` (per-study names, then ``analyses``) runs each study once.

``inevitable`` (Shafahi et al. 2019): table ``inevitable_sphere``: for points uniform on
``S^{n-1}`` labelled by the hemisphere ``x_1 > 0`` (class density 2x uniform, region measure 1/2),
the exact isoperimetric bound on the fraction correct and eps-robust (geodesic eps), the paper's
closed form, and the exact measured fraction of the hemisphere classifier and of a logistic
regression trained on samples (distances to a linear boundary on the sphere are exact, so
"measured" involves no attack). Table ``inevitable_cube``: the same on ``[0, 1]^n`` under L2 eps
with the coordinate classifier ``x_1 > 1/2``. Figure ``inevitable.png``.

``tradeoff`` (Tsipras et al. 2019): table ``tradeoff``: standard and L-inf robust (eps = 2 eta)
accuracy of the averaging classifier, ``sign(x_1)``, and standard vs adversarially trained logistic
regression on the paper's distribution (p, eta = 3/sqrt d), each exact (closed form) and simulated
on fresh test samples, beside Theorem 2.1's cap. Figure ``tradeoff.png``: accuracy against eps.

The other studies live in `robust.analyses` (one module each, ``study(options)``): ``sensitivity``,
``single-directions``, ``transfer-alignment``, ``gradient-maps``; ``grad`` (table ``grad``: accuracy,
demographic-parity and equalised-odds gaps and a gender probe against the gradient-reversal
strength on WHAS500); ``reprogramming`` (table ``reprogramming``: square counting through a frozen
MNIST MLP reprogrammed by a learned frame, against an untrained frozen MLP and one trained from
scratch); ``secret-sharer`` (tables ``secret_sharer``: exposure by enumeration and by the skew-normal
fit per epoch of a character GRU on stdlib docstrings with a canary, and ``secret_sharer_stopping``);
``codimension`` (table ``codimension``: clean and L2-PGD robust accuracy of standard and
adversarially trained MLPs on concentric circles against codimension); ``weight-decay`` (tables
``weight_decay_linear`` and ``weight_decay_mlp``: Galloway et al.'s weight decay vs adversarial
training); ``rotation`` (table ``rotation``: the spatial grid attack against plain,
rotation-augmented and p4 group-equivariant CNNs); ``secret-sharer-dp`` (table ``secret_sharer_dp``:
the canary's exposure after plain training and after DP-SGD, `robust.analyses.dp_sgd`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable

__all__ = ["INEVITABLE", "STUDIES", "TRADEOFF", "analyses", "inevitable", "run_study", "tradeoff"]

INEVITABLE = {
    "smoke": {"dims": (3, 10, 100, 1000), "eps": (0.02, 0.05, 0.1, 0.2, 0.5), "train": 2000, "test": 4000},
    "full": {
        "dims": (3, 10, 100, 1000, 3000),
        "eps": (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5),
        "train": 10000,
        "test": 20000,
    },
}
"""Dimensions n, geodesic/L2 radii, training and test points per dimension."""

TRADEOFF = {
    "smoke": {"dims": (100,), "p": 0.9, "train": 4000, "test": 20000, "steps": 500},
    "full": {"dims": (100, 1000), "p": 0.9, "train": 20000, "test": 100000, "steps": 2000},
}
"""Non-robust feature counts d, robust-feature reliability p, samples, Adam steps."""


def inevitable(options: RunOptions) -> list[ResultTable]:
    """Shafahi et al.'s sphere and cube bounds next to exact robustness of linear classifiers."""
    from sklearn.linear_model import LogisticRegression

    from robust.analyses import inevitable as iv

    budget = INEVITABLE[options.scale]
    eps = np.array(budget["eps"])
    rng = np.random.default_rng(options.seed)
    sphere = ResultTable(
        "inevitable_sphere",
        title="Sphere S^{n-1}: fraction correct and eps-robust (geodesic eps) vs the isoperimetric bound",
        data=f"simulated: uniform on S^(n-1), label sign(x_1); {budget['train']} train / {budget['test']} test",
        notes=(
            "bound_exact = U cap(theta(f) - eps) with U = 2, f = 1/2 (incomplete beta); closed_form = "
            "U sqrt(pi/8) exp(-(n-1) eps^2/2) (Shafahi et al.); measured fractions are exact distances to "
            "each linear boundary on the test points (no attack needed)."
        ),
    )
    curves: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for n in budget["dims"]:
        x_train = iv.sample_sphere(budget["train"], n, rng)
        x_test = iv.sample_sphere(budget["test"], n, rng)
        y_train, y_test = np.sign(x_train[:, 0]), np.sign(x_test[:, 0])
        fit = LogisticRegression(C=100.0, max_iter=2000).fit(x_train, y_train)
        w, b = fit.coef_[0], float(fit.intercept_[0])
        bound = iv.sphere_robust_bound(n, eps, f=0.5, u=2.0)
        closed = iv.sphere_closed_form(n, eps, u=2.0)
        ideal = iv.linear_sphere_robustness(x_test, y_test, np.eye(n)[0], 0.0, eps)
        trained = iv.linear_sphere_robustness(x_test, y_test, w, b, eps)
        clean = float(iv.linear_sphere_robustness(x_test, y_test, w, b, np.zeros(1))[0])
        curves[n] = (bound, ideal, trained)
        for k, e in enumerate(eps):
            sphere.add(
                n=n,
                eps=float(e),
                bound_exact=float(bound[k]),
                closed_form=float(closed[k]),
                hemisphere_measured=float(ideal[k]),
                trained_clean_accuracy=clean,
                trained_measured=float(trained[k]),
            )
    options.publish(sphere)
    cube = ResultTable(
        "inevitable_cube",
        title="Cube [0,1]^n: fraction correct and L2-eps-robust vs the Gaussian-isoperimetric bound",
        data=f"simulated: uniform on [0,1]^n, label x_1 > 1/2; {budget['test']} test points",
        notes=(
            "bound_exact = U Phi(Phi^-1(f) - sqrt(2 pi) eps), closed_form = U exp(-pi eps^2)/(2 pi eps), "
            "U = 2, f = 1/2; measured: fraction of test points farther than eps from x_1 = 1/2 "
            "(exact distance in the cube); independent of n like the bound."
        ),
    )
    cube_bound = iv.cube_robust_bound(eps, u=2.0)
    cube_closed = iv.cube_closed_form(eps, u=2.0)
    for n in budget["dims"]:
        x = rng.random((budget["test"], n))
        gap = np.abs(x[:, 0] - 0.5)
        for k, e in enumerate(eps):
            cube.add(
                n=n,
                eps=float(e),
                bound_exact=float(cube_bound[k]),
                closed_form=float(cube_closed[k]),
                measured=float(np.mean(gap > e)),
            )
    options.publish(cube)
    figure = new_figure(9, 3.6)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    for i, (n, (bound, ideal, trained)) in enumerate(curves.items()):
        color = f"C{i}"
        left.plot(eps, bound, "-", color=color, label=f"n={n} bound")
        left.plot(eps, ideal, "o", color=color, label=f"n={n} hemisphere")
        left.plot(eps, trained, "x", color=color)
    left.set(xlabel="geodesic eps (rad)", ylabel="correct and eps-robust", title="sphere (x: trained linear)")
    left.legend(fontsize=6)
    right.plot(eps, cube_bound, "-", label="bound (any n)")
    right.plot(eps, np.maximum(0.0, 1 - 2 * eps), "o", label="x_1 > 1/2 (exact)")
    right.set(xlabel="L2 eps", title="cube")
    right.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "inevitable.png")
    return [sphere, cube]


def tradeoff(options: RunOptions) -> list[ResultTable]:
    """Standard vs robust accuracy of the paper's and trained linear classifiers on Tsipras et al.'s data."""
    from robust.analyses import tradeoff as to

    budget = TRADEOFF[options.scale]
    rng = np.random.default_rng(options.seed)
    table = ResultTable(
        "tradeoff",
        title="Robustness vs accuracy on Tsipras et al.'s distribution (L-inf eps = 2 eta)",
        data=(
            f"simulated: Tsipras et al.'s distribution, p = {budget['p']}, eta = 3/sqrt(d); "
            f"{budget['train']} train / {budget['test']} test samples"
        ),
        notes=(
            "exact_* from the closed form, simulated_* on fresh test samples under the exact worst-case "
            "linear perturbation -eps y sign(w). Paper: averaging classifier > 99% standard, ~0 robust; "
            "sign(x_1) has accuracy p either way; Theorem 2.1 caps robust accuracy at p delta / (1 - p)."
        ),
    )
    curves = {}
    for d in budget["dims"]:
        dist = to.Distribution(d, budget["p"], to.paper_eta(d))
        eps = 2 * dist.eta
        x, y = to.sample(dist, budget["train"], rng)
        x_test, y_test = to.sample(dist, budget["test"], rng)
        models = {
            "averaging (paper)": (to.averaging_classifier(dist), 0.0),
            "sign(x_1) (paper)": (to.robust_feature_classifier(dist), 0.0),
            "logistic, standard training": to.fit_linear(x, y, 0.0, steps=budget["steps"]),
            f"logistic, adversarial training (eps {eps:.3g})": to.fit_linear(
                x, y, eps, steps=budget["steps"]
            ),
        }
        for name, (w, b) in models.items():
            standard = to.linear_accuracy(dist, w, b, 0.0)
            table.add(
                d=d,
                eta=dist.eta,
                eps=eps,
                model=name,
                exact_standard=standard,
                exact_robust=to.linear_accuracy(dist, w, b, eps),
                simulated_standard=to.simulated_accuracy(x_test, y_test, w, b, 0.0),
                simulated_robust=to.simulated_accuracy(x_test, y_test, w, b, eps),
                weight_share_x1=float(abs(w[0]) / np.abs(w).sum()),
                theorem_cap=to.robust_accuracy_cap(dist, standard),
            )
            if d == budget["dims"][-1]:
                grid = np.linspace(0, 3 * dist.eta, 31)
                curves[name] = (grid / dist.eta, [to.linear_accuracy(dist, w, b, e) for e in grid])
    options.publish(table)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    for name, (grid, acc) in curves.items():
        axis.plot(grid, acc, label=name)
    axis.axvline(2.0, color="grey", linestyle=":")
    axis.set(
        xlabel="L-inf eps / eta",
        ylabel="exact accuracy",
        title=f"d = {budget['dims'][-1]}, p = {budget['p']}",
    )
    axis.legend(fontsize=6)
    save_figure(figure, Path(options.out) / "tradeoff.png")
    return [table]


def _module_study(module: str):
    def run(options: RunOptions) -> list[ResultTable]:
        from importlib import import_module

        return import_module(f"robust.analyses.{module}").study(options)

    return run


STUDIES = {
    "inevitable": inevitable,
    "tradeoff": tradeoff,
    "sensitivity": _module_study("sensitivity"),
    "single-directions": _module_study("single_directions"),
    "transfer-alignment": _module_study("transfer_alignment"),
    "gradient-maps": _module_study("gradient_maps"),
    "grad": _module_study("grad"),
    "reprogramming": _module_study("reprogramming"),
    "secret-sharer": _module_study("secret_sharer"),
    "codimension": _module_study("codimension"),
    "weight-decay": _module_study("weight_decay"),
    "rotation": _module_study("rotation"),
    "secret-sharer-dp": _module_study("dp_sgd"),
}
"""Each study's ``--only`` name and function ``(RunOptions) -> list[ResultTable]``, in run order."""

_DONE: dict[tuple[str, str, str, int], list[ResultTable]] = {}


def run_study(name: str, options: RunOptions) -> list[ResultTable]:
    """Run study `name` (a key of `STUDIES`) unless this process already ran it with the same out/scale/seed."""
    key = (name, str(options.out), options.scale, options.seed)
    if key not in _DONE:
        _DONE[key] = STUDIES[name](options)
    return _DONE[key]


def analyses(options: RunOptions) -> list[ResultTable]:
    """Every study of `STUDIES`, in order; tables are published by each study as it finishes."""
    tables: list[ResultTable] = []
    for name in STUDIES:
        tables += run_study(name, options)
    return tables
