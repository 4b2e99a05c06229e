"""``reproduce robust --only defenses``: clean, PGD and IBP-verified accuracy of training defenses.

Table ``defenses``: Gowal et al.'s small IBP net trained on MNIST clean, with PGD adversarial
training (Madry et al.), adversarial logit pairing (Kannan et al.) and IBP training (Gowal et al.),
all at L-inf eps `TRAIN_EPS`; for each, over the test eps grid: clean accuracy, accuracy under
PGD (20 steps, and 5 restarts: the strong attack ALP must be judged by), and IBP-verified
accuracy (a sound lower bound of the robust accuracy). Anchors: Gowal et al.'s IBP reference
models verify 97.08 / 95.47 / 91.79 / 84.99 % of MNIST at eps 0.1 / 0.2 / 0.3 / 0.4 (60k steps on
the 60,000 images, large net); Madry et al.'s PGD-trained MNIST net keeps about 89 % against PGD at
eps 0.3; ALP's reported robustness falls under stronger, multi-restart PGD (Engstrom et al. 2018).

``reproduce robust --only pixeldp``, table ``pixeldp``: certified accuracy against L2 radius of PixelDP (Lecuyer et al.): the same net
trained on Gaussian-noised images (sigma calibrated for construction bound L = `PIXELDP_L`,
eps 1, delta 0.05), Monte-Carlo expected scores over `draws` noise draws with 95% Hoeffding
bounds, the Proposition-1 test per input; beside the noise-free model's clean accuracy.
"""

from __future__ import annotations

import math

from core.cli import RunOptions
from core.results import ResultTable
from robust.certify import verified_accuracy
from robust.evaluate import evaluate
from robust.experiments.defended import defended_model
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "DIGITS", "TRAIN_EPS", "defenses", "defenses_digits", "pixeldp"]

TRAIN_EPS = 0.1

PIXELDP_L, PIXELDP_DELTA = 0.1, 0.05
PIXELDP_SIGMA = math.sqrt(2 * math.log(1.25 / PIXELDP_DELTA)) * PIXELDP_L
"""The Gaussian mechanism's noise sd for construction bound L (L2 sensitivity 1, eps 1)."""

BUDGET = {
    "smoke": {
        "n_test": 500,
        "eps": (0.05, 0.1, 0.2),
        "at_steps": 10,
        "ibp_warmup": 100,
        "ibp_ramp": 400,
        "draws": 300,
        "eot": 10,
    },
    "full": {
        "n_test": 1000,
        "eps": (0.05, 0.1, 0.2, 0.3),
        "at_steps": 40,
        "ibp_warmup": 2000,
        "ibp_ramp": 10000,
        "draws": 1000,
        "eot": 30,
    },
}
"""Test images, test eps grid, PGD-AT steps, IBP schedule (minibatch steps), PixelDP draws and EOT samples
of the attack on PixelDP, of each scale."""

ARCHITECTURE = "ibp-small"


def defenses(options: RunOptions) -> list[ResultTable]:
    """Train the four models and evaluate them; returns the published table."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, reference = reference_models(options, data, (ARCHITECTURE,))
    steps = budget["at_steps"]
    pgd = {"eps": TRAIN_EPS, "steps": steps, "alpha": 2.5 * TRAIN_EPS / steps}
    trained = {"clean": (models[ARCHITECTURE], reference.rows[0]["train_seconds"])}
    recipes = {
        "PGD AT": ("pgdat", {"recipe": "pgd", **pgd}),
        "ALP": ("alp", {"recipe": "alp", **pgd}),
        "IBP": (
            "ibp",
            {
                "recipe": "ibp",
                "eps": TRAIN_EPS,
                "ibp_warmup_steps": budget["ibp_warmup"],
                "ibp_ramp_steps": budget["ibp_ramp"],
            },
        ),
    }
    for label, (name, fields) in recipes.items():
        model, history, _ = defended_model(options, data, ARCHITECTURE, f"{name}{TRAIN_EPS:g}", **fields)
        trained[label] = (model, history[-1]["train_seconds"])
    device = next(models[ARCHITECTURE].parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    table = ResultTable(
        "defenses",
        title=f"Training defenses on {data.name} ({ARCHITECTURE}, trained at L-inf eps {TRAIN_EPS}; {len(x)} test images)",
        data=data.describe(),
        notes=(
            "PGD: 20 steps, alpha eps/8, random start; 'PGD x5' keeps the first of 5 restarts that fools. "
            f"verified = IBP certificate (sound); for PixelDP (L = {PIXELDP_L}, sigma {PIXELDP_SIGMA:.3f}, "
            f"{budget['draws']} draws) its L2 certificate at radius eps sqrt(pixels) (the L2 ball that holds the "
            f"L-inf ball), and PGD is EOT-PGD through the noise layer ({budget['eot']} draws per gradient) scored "
            "by PixelDP's Monte-Carlo prediction. Anchors: IBP reference models verify 97.08/95.47/91.79/84.99% of "
            "MNIST at eps 0.1/0.2/0.3/0.4 (Gowal et al.); PGD-AT keeps ~89% at eps 0.3 (Madry et al.)."
        ),
    )
    add_attack_rows(table, trained, x, y, budget["eps"], options.seed)
    base, history, _ = defended_model(
        options, data, ARCHITECTURE, f"noise{PIXELDP_SIGMA:.3f}", recipe="noise", noise_sigma=PIXELDP_SIGMA
    )
    add_pixeldp_rows(table, base, history[-1]["train_seconds"], x, y, budget, options.seed)
    options.publish(table)
    return [table]


def add_attack_rows(table: ResultTable, trained: dict, x, y, eps_grid, seed: int) -> None:
    """Add one row per (model, eps) to a defenses `table`: clean accuracy, PGD (20 steps, alpha eps/8, random
    start) and 5-restart PGD accuracy, and IBP-verified accuracy, on test images `x` ``(n, C, H, W)`` and
    labels `y` ``(n,)``; `trained` maps a row label to ``(model, training seconds)``."""
    for label, (model, seconds) in trained.items():
        for eps in eps_grid:
            attacks = [
                ("pgd", {"eps": eps, "alpha": eps / 8, "steps": 20, "seed": seed}),
                ("pgd", {"eps": eps, "alpha": eps / 8, "steps": 20, "restarts": 5, "seed": seed}),
            ]
            rows = evaluate(model, (x, y), attacks).rows
            table.add(
                training=label,
                eps=eps,
                clean_accuracy=rows[0]["clean_accuracy"],
                pgd_accuracy=rows[0]["robust_accuracy"],
                pgd_5_restarts_accuracy=rows[1]["robust_accuracy"],
                verified_accuracy=verified_accuracy(model, x, y, eps),
                train_seconds=seconds,
            )


def add_pixeldp_rows(table: ResultTable, base, seconds: float, x, y, budget: dict, seed: int) -> None:
    """Add PixelDP's rows to a defenses `table`, one per eps of ``budget["eps"]``.

    `base` is the noise-trained model; `x` ``(n, C, H, W)`` and `y` ``(n,)`` the test images. Clean and
    attacked accuracy are PixelDP's Monte-Carlo predictions (``budget["draws"]`` draws); the attack is
    EOT-PGD through the noise layer (``budget["eot"]`` draws per gradient, 20 steps, alpha eps/8);
    verified: correct and L2-certified at radius eps sqrt(pixels), the L2 ball that holds the L-inf ball.
    """
    from robust.attacks import EOT, PGD
    from robust.certify import PixelDP
    from robust.defenses import GaussianNoise

    pixels = x[0].numel()
    dp = PixelDP(base, PIXELDP_L, 1.0, PIXELDP_DELTA, draws=budget["draws"], seed=seed)
    clean_result = dp.certify(x)
    clean_accuracy = float((clean_result.prediction == y).float().mean())
    noisy = GaussianNoise(base, dp.scale, seed=seed)
    for eps in budget["eps"]:
        adversary = EOT(PGD(noisy, eps=eps, alpha=eps / 8, steps=20, seed=seed), samples=budget["eot"])
        result = dp.certify(adversary(x, y))
        certified = (clean_result.prediction == y) & (clean_result.radius >= eps * math.sqrt(pixels))
        table.add(
            training="PixelDP (Lecuyer et al.)",
            eps=eps,
            clean_accuracy=clean_accuracy,
            pgd_accuracy=float((result.prediction == y).float().mean()),
            verified_accuracy=float(certified.float().mean()),
            train_seconds=seconds,
        )


def pixeldp(options: RunOptions) -> list[ResultTable]:
    """PixelDP certified accuracy against L2 radius of a noise-trained net; returns the published table."""

    import torch

    from robust.certify import PixelDP

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    draws = budget["draws"]

    sigma = PIXELDP_SIGMA
    model, history, _ = defended_model(
        options, data, ARCHITECTURE, f"noise{sigma:.3f}", recipe="noise", noise_sigma=sigma
    )
    device = next(model.parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    dp = PixelDP(model, PIXELDP_L, 1.0, PIXELDP_DELTA, draws=draws, seed=options.seed)
    radii = torch.linspace(PIXELDP_L / 20, PIXELDP_L, 20)
    result = dp.certify(x, radii)
    right = (result.prediction == y).cpu()
    table = ResultTable(
        "pixeldp",
        title=f"PixelDP certified accuracy against L2 radius ({ARCHITECTURE}, L = {PIXELDP_L}, sigma {sigma:.3f}, {draws} draws, {len(x)} test images)",
        data=data.describe(),
        notes=(
            "Lecuyer et al. (2019): a noise layer calibrated by the Gaussian mechanism certifies predictions up to the "
            "construction bound L; certified accuracy falls with the radius. Radius 0: accuracy of the expected "
            "(Monte-Carlo) prediction. Noise-trained base model, clean test accuracy "
            f"{history[-1]['test_accuracy']:.3f}."
        ),
    )
    for radius in (0.0, 0.025, 0.05, 0.075, 0.1):
        table.add(
            l2_radius=radius,
            certified_accuracy=float((right & (result.radius.cpu() >= radius - 1e-9)).float().mean()),
        )
    options.publish(table)
    return [table]


DIGITS = {
    "smoke": {
        "epochs": 20,
        "eps": (0.05, 0.1, 0.2),
        "at_steps": 10,
        "ibp_warmup": 100,
        "ibp_ramp": 400,
        "draws": 300,
        "eot": 10,
    },
    "full": {
        "epochs": 100,
        "eps": (0.05, 0.1, 0.2, 0.3),
        "at_steps": 40,
        "ibp_warmup": 500,
        "ibp_ramp": 2000,
        "draws": 1000,
        "eot": 30,
    },
}
"""The digits table's budget: epochs (of 29 minibatch steps of 50), test eps, PGD-AT steps, IBP schedule,
PixelDP draws and EOT samples of the attack on PixelDP."""

DIGITS_ARCHITECTURE = "mlp"
"""Gowal et al.'s unpadded IBP nets do not fit 8x8 images (the second convolution has no room), so the
digits table uses the two-layer 256-unit ReLU MLP for every training."""


def defenses_digits(options: RunOptions) -> list[ResultTable]:
    """Clean / PGD / verified accuracy of clean, PGD-AT, ALP, IBP and PixelDP training on the 8x8 digits."""
    from pathlib import Path

    from core.device import pick_device
    from robust.data import load_dataset
    from robust.models import ModelConfig
    from robust.train import TrainConfig, fit

    budget = DIGITS[options.scale]
    data = load_dataset("digits")
    device = pick_device(options.device)
    c, size, _ = data.image_shape
    epochs = budget["epochs"]
    clean_config = TrainConfig(
        model=ModelConfig(DIGITS_ARCHITECTURE, in_channels=c, image_size=size, num_classes=data.num_classes),
        data=data.name,
        epochs=epochs,
        seed=options.seed,
    )
    path = (
        Path(options.out)
        / "models"
        / f"digits-{DIGITS_ARCHITECTURE}-e{epochs}-seed{options.seed}.safetensors"
    )
    clean, history = fit(data, clean_config, checkpoint=path, device=device)
    trained = {"clean": (clean, history[-1]["train_seconds"])}
    steps = budget["at_steps"]
    pgd = {"eps": TRAIN_EPS, "steps": steps, "alpha": 2.5 * TRAIN_EPS / steps}
    ibp = {"eps": TRAIN_EPS, "ibp_warmup_steps": budget["ibp_warmup"], "ibp_ramp_steps": budget["ibp_ramp"]}
    recipes = {
        "PGD AT": ("pgdat", {"recipe": "pgd", **pgd}),
        "ALP": ("alp", {"recipe": "alp", **pgd}),
        "IBP": ("ibp", {"recipe": "ibp", **ibp}),
    }
    for label, (name, fields) in recipes.items():
        model, history, _ = defended_model(
            options, data, DIGITS_ARCHITECTURE, f"{name}{TRAIN_EPS:g}-e{epochs}", epochs=epochs, **fields
        )
        trained[label] = (model, history[-1]["train_seconds"])
    sigma = PIXELDP_SIGMA
    base, history, _ = defended_model(
        options,
        data,
        DIGITS_ARCHITECTURE,
        f"noise{sigma:.3f}-e{epochs}",
        epochs=epochs,
        recipe="noise",
        noise_sigma=sigma,
    )
    x, y = data.x_test.to(device), data.y_test.to(device)
    pixels = x[0].numel()
    table = ResultTable(
        "defenses_digits",
        title=f"Training defenses on the 8x8 digits ({DIGITS_ARCHITECTURE}, trained at L-inf eps {TRAIN_EPS}; {len(x)} test images)",
        data=data.describe(),
        notes=(
            "PGD: 20 steps, alpha eps/8, random start; 'PGD x5': 5 restarts. verified: IBP certificate; for "
            f"PixelDP (L = {PIXELDP_L}, sigma {sigma:.3f}, {budget['draws']} draws) its L2 certificate at radius "
            f"eps sqrt({pixels}) (the L2 ball that holds the L-inf ball), and PGD is EOT-PGD through the noise "
            f"layer ({budget['eot']} draws per gradient) scored by PixelDP's Monte-Carlo prediction. "
            "Gowal et al.'s IBP nets do not fit 8x8 images: every row is the same MLP."
        ),
    )
    add_attack_rows(table, trained, x, y, budget["eps"], options.seed)
    add_pixeldp_rows(table, base, history[-1]["train_seconds"], x, y, budget, options.seed)
    options.publish(table)
    return [table]
