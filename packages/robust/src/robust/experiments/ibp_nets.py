"""``reproduce robust --only ibp-nets``: IBP training of Gowal et al.'s small, medium and large MNIST nets.

Each net (`robust.config.IBP_NETS`: small 2 convs + fc 100, medium 4 convs + 2 fc 512, large 5 convs + fc 512)
is trained with the ``"ibp"`` recipe (`robust.defenses.fit_defense`: ``kappa CE(z) + (1 - kappa) CE(z_hat)``,
eps ramped after a warm-up to 1.1 x the training eps, kappa 1 -> 0.5) at each training eps of the
scale, then evaluated on the first ``n_test`` test images at every eps of `TEST_EPS`: clean accuracy,
IBP-verified accuracy (sound) and, on the first ``n_pgd`` of them, accuracy under 20-step PGD (an
upper bound of the robust accuracy; verified <= PGD is the soundness check).

Anchor: Gowal et al.'s IBP reference models verify `PAPER_VERIFIED` of MNIST's 10,000 test images
(97.08 / 95.47 / 91.79 / 84.99 % at eps 0.1 / 0.2 / 0.3 / 0.4; the large net, 60k steps on the
60,000 training images, one model per test eps).
"""

from __future__ import annotations

from pathlib import Path

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data

__all__ = ["BUDGET", "NETS", "PAPER_VERIFIED", "TEST_EPS", "ibp_nets"]

NETS = ("ibp-small", "ibp-medium", "ibp-large")

TEST_EPS = (0.1, 0.2, 0.3, 0.4)

PAPER_VERIFIED = {0.1: 0.9708, 0.2: 0.9547, 0.3: 0.9179, 0.4: 0.8499}
"""Gowal et al.'s published IBP verified accuracy on MNIST by test eps (reference models)."""

BUDGET = {
    "smoke": {
        "epochs": 3,
        "train_eps": (0.2,),
        "warmup": 40,
        "ramp": 160,
        "n_test": 500,
        "n_pgd": 100,
    },
    "full": {
        "epochs": 250,
        "train_eps": (0.1, 0.2, 0.3, 0.4),
        "warmup": 2000,
        "ramp": 10000,
        "n_test": 1000,
        "n_pgd": 1000,
    },
}
"""Epochs (of 80 minibatch steps on MNIST-5000), training eps, IBP schedule (steps) and test images of each scale."""


def ibp_nets(options: RunOptions) -> list[ResultTable]:
    """Train (or resume) the three nets at each training eps, evaluate them; returns the published table."""
    from core.device import pick_device
    from robust.certify import verified_accuracy
    from robust.defenses import DefenseConfig, fit_defense
    from robust.evaluate import evaluate
    from robust.models import ModelConfig
    from robust.train import TrainConfig

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    device = pick_device(options.device)
    c, size, _ = data.image_shape
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    n_pgd = budget["n_pgd"]
    table = ResultTable(
        "ibp_nets",
        title=(
            f"IBP training of Gowal et al.'s MNIST nets on {data.name} ({budget['epochs']} epochs, warm-up "
            f"{budget['warmup']} + ramp {budget['ramp']} steps; {len(x)} test images, PGD on {min(n_pgd, len(x))})"
        ),
        data=data.describe(),
        notes=(
            "verified = IBP certificate (sound lower bound); PGD: 20 steps of eps/8, random start (upper bound). "
            "Paper: Gowal et al.'s IBP reference models verify 97.08/95.47/91.79/84.99% of MNIST at eps "
            "0.1/0.2/0.3/0.4 (large net, 60k steps on 60,000 images, one model per eps)."
        ),
    )
    for architecture in NETS:
        for train_eps in budget["train_eps"]:
            train = TrainConfig(
                model=ModelConfig(architecture, in_channels=c, image_size=size, num_classes=data.num_classes),
                data=data.name,
                epochs=budget["epochs"],
                seed=options.seed,
            )
            config = DefenseConfig(
                train=train,
                recipe="ibp",
                eps=train_eps,
                ibp_warmup_steps=budget["warmup"],
                ibp_ramp_steps=budget["ramp"],
            )
            name = f"{data.name}-{architecture}-ibpnets{train_eps:g}-w{budget['warmup']}r{budget['ramp']}"
            path = Path(options.out) / "models" / f"{name}-seed{options.seed}.safetensors"
            model, history = fit_defense(data, config, checkpoint=path, device=device)
            for eps in TEST_EPS:
                attack = ("pgd", {"eps": eps, "alpha": eps / 8, "steps": 20, "seed": options.seed})
                row = evaluate(model, (x[:n_pgd], y[:n_pgd]), [attack]).rows[0]
                table.add(
                    net=architecture,
                    train_eps=train_eps,
                    eps=eps,
                    clean_accuracy=history[-1]["test_accuracy"],
                    pgd_accuracy=row["robust_accuracy"],
                    verified_accuracy=verified_accuracy(model, x, y, eps),
                    paper_verified=PAPER_VERIFIED[eps],
                    train_seconds=history[-1]["train_seconds"],
                )
            options.publish(table)
    return [table]
