"""``reproduce genmodels --only neural-ode``: ODE-Net vs an equal-depth ResNet, NFE against tolerance, a CNF on 2-D data.

Chen et al. (2018): an ODE-Net classifier matches a ResNet's accuracy with a fraction of its
parameters (MNIST: 0.42 % vs 0.41 % test error, 0.22 M vs 0.60 M parameters, table 1), and its number
of function evaluations (NFE) is traded against accuracy through the solver's tolerance (fig. 3);
a continuous normalising flow fits 2-D densities (sec. 4; FFJORD's Hutchinson estimator makes it
scale, Grathwohl et al. 2019). Here: scikit-learn's 8 x 8 digits (an ODE-Net step of 64 MNIST images at
16 x 16 took 1.2 s on the shared 2 cores, measured), and two moons for the CNF. The latent ODE on spirals
is its own experiment, ``--only latent-ode`` (`genmodels.experiments.latent_ode`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from core.cli import RunOptions
from core.plots import new_figure, save_figure
from core.results import ResultTable

__all__ = ["SETTINGS", "TOLERANCES", "run"]

SETTINGS = {
    "smoke": {"channels": 16, "epochs": 30, "cnf_points": 4000, "cnf_epochs": 40, "hidden": 32},
    "full": {"channels": 64, "epochs": 100, "cnf_points": 20000, "cnf_epochs": 100, "hidden": 64},
}
"""Block channels and epochs of the classifiers; CNF training points, epochs and hidden units (hours: README)."""

TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
"""Solver tolerances (rtol = atol) at which the trained ODE-Net is evaluated."""


def run(options: RunOptions) -> list[ResultTable]:
    """Train ODE-Net, ResNet and the CNF; publish accuracy/NFE/parameters and CNF likelihoods; plot the density."""
    from genmodels.config import CNFRunConfig, ODENetRunConfig
    from genmodels.data import load_digits
    from genmodels.node import fit_cnf, fit_ode_classifier

    settings = SETTINGS[options.scale]
    folder = options.out / "neural-ode"
    train, test = load_digits().split(0.2, seed=options.seed)
    x_train, x_test = train.tensor(), test.tensor()
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    base = ODENetRunConfig()
    table = ResultTable(
        "neural_ode_classifier",
        title="ODE-Net vs a ResNet of equal depth on held-out digits: accuracy, parameters, forward NFE by tolerance",
        data=f"{test.source}; {len(train)} training, {len(test)} held-out images",
    )
    train_config = replace(base.train, epochs=settings["epochs"], batch_size=64, seed=options.seed)
    models = {}
    for kind in ("resnet", "odenet"):
        config = replace(base, model=kind, channels=settings["channels"], train=train_config)
        model, history = fit_ode_classifier(
            x_train, y_train, config, checkpoint=folder / f"{kind}.safetensors"
        )
        models[kind] = (model, history)
    resnet, _ = models["resnet"]
    with torch.no_grad():
        table.add(
            model=f"ResNet ({base.depth} blocks)",
            tolerance="-",
            accuracy=float((resnet(x_test).argmax(1) == y_test).float().mean()),
            parameters=sum(p.numel() for p in resnet.parameters()),
            nfe=base.depth,
        )
        odenet, history = models["odenet"]
        for tolerance in TOLERANCES:
            odenet.tolerance = tolerance
            logits = odenet(x_test)
            table.add(
                model="ODE-Net (trained at 1e-3)",
                tolerance=tolerance,
                accuracy=float((logits.argmax(1) == y_test).float().mean()),
                parameters=sum(p.numel() for p in odenet.parameters()),
                nfe=odenet.last_nfe,
            )
    table.notes = (
        f"Both: a conv stem (to 4 x 4, {settings['channels']} channels), the block f(t, h) = conv(relu(gn(conv(relu(gn(h)), t))), t), "
        f"pooling, a linear head; {settings['epochs']} epochs of batch 64, Adam 1e-3. ODE-Net: one block solved by dopri5 "
        "on [0, 1] (backpropagation through the solver), trained at rtol = atol = 1e-3, evaluated at each tolerance; "
        f"nfe: forward function evaluations on the held-out batch (the ResNet's is its {base.depth} blocks); "
        f"final training NFE per step {history[-1]['nfe']:.0f}. Paper (Chen et al. 2018, table 1, MNIST): test error "
        "0.42 % for the ODE-Net (0.22 M parameters) vs 0.41 % for a ResNet (0.60 M); fig. 3: NFE grows as the tolerance "
        "tightens, and error falls."
        " Not in ../shared/papers/genmodels.md (it gives no numbers for this paper), so unverified here."
    )
    options.publish(table)

    from sklearn.datasets import make_moons

    points = torch.tensor(
        make_moons(settings["cnf_points"] + 1000, noise=0.05, random_state=options.seed)[0],
        dtype=torch.float32,
    )
    points = (points - points.mean(0)) / points.std(0)
    cnf_train, cnf_test = points[:-1000], points[-1000:]
    cnf_base = CNFRunConfig()
    cnf_config = replace(
        cnf_base,
        hidden=settings["hidden"],
        train=replace(cnf_base.train, epochs=settings["cnf_epochs"], seed=options.seed),
    )
    cnf, _ = fit_cnf(cnf_train, cnf_config, checkpoint=folder / "cnf.safetensors")
    with torch.no_grad():
        mean, cov = cnf_train.double().mean(0), torch.cov(cnf_train.double().T)
    gaussian = torch.distributions.MultivariateNormal(mean, cov).log_prob(cnf_test.double())
    exact = cnf.log_prob(cnf_test, estimator="exact", tolerance=1e-5).detach()
    estimate = cnf.log_prob(
        cnf_test, generator=torch.Generator().manual_seed(options.seed), tolerance=1e-5
    ).detach()
    cnf_table = ResultTable(
        "neural_ode_cnf",
        title="CNF (FFJORD's Hutchinson estimator) on two moons: held-out log-likelihood, nats per point",
        data=f"sklearn.datasets.make_moons (noise 0.05, standardised), {len(cnf_train)} training, 1000 held-out points",
    )
    cnf_table.add(model="full-covariance Gaussian (MLE)", log_likelihood=float(gaussian.mean()))
    cnf_table.add(model="CNF, exact trace", log_likelihood=float(exact.mean()), nfe=cnf.last_nfe)
    cnf_table.add(model="CNF, Hutchinson estimate (1 probe)", log_likelihood=float(estimate.mean()))
    cnf_table.notes = (
        f"CNF: MLP dynamics (2 x {settings['hidden']} tanh units, t as an input), trained {settings['cnf_epochs']} epochs "
        f"of batch 256 with the Hutchinson trace at rtol = atol = {cnf_config.tolerance}, Adam 1e-3; evaluated at 1e-5 "
        "with the exact trace and with one Gaussian probe per point (unbiased for the log-density's trace term). "
        "Paper (Chen et al. 2018, fig. 4-5; Grathwohl et al. 2019): CNFs fit such 2-D densities (shown, not tabulated)."
    )
    options.publish(cnf_table)
    _density(cnf, cnf_train, folder / "neural_ode_cnf_density.png")
    return [table, cnf_table]


def _density(cnf, points: torch.Tensor, path) -> None:
    grid = np.linspace(-2.5, 2.5, 50)
    xx, yy = np.meshgrid(grid, grid)
    query = torch.tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=torch.float32)
    density = cnf.log_prob(query, estimator="exact", tolerance=1e-4).detach().exp().numpy().reshape(50, 50)
    figure = new_figure(6, 3)
    axis = figure.add_subplot(1, 2, 1)
    axis.scatter(points[:2000, 0], points[:2000, 1], s=1)
    axis.set_title("training points", fontsize=8)
    axis = figure.add_subplot(1, 2, 2)
    axis.imshow(density, origin="lower", extent=(-2.5, 2.5, -2.5, 2.5))
    axis.set_title("CNF density", fontsize=8)
    save_figure(figure, path)
