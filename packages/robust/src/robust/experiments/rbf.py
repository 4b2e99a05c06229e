"""``reproduce robust --only rbf``: RBF output layer with rejection (Zadeh et al.) and deep RBF networks (de Alfaro).

Three networks on MNIST: the clean reference MLP (`reference_models`' ``"mlp"``, the baseline), the
same MLP body with an RBF output layer trained with the max-margin loss and injected uniform noise
(`robust.defenses.rbf`, ``kind="rbf"``), and a deep RBF network of alternating AND / OR units
(``kind="deep-rbf"``). Each detector's rejection threshold is calibrated on the first
``calibration`` test images at a clean false-positive rate of `FPR`; the next ``n_test`` are
evaluated.

Table ``rbf``, one row per network and input set: clean images; uniform noise images; fooling
images (targeted `RejectionAwarePGD` towards a random class from uniform noise, L-inf 0.3 around
it: an example counts as fooling when accepted as the target); and, per L-inf eps, PGD crafted on
the clean MLP (transferred), white-box PGD on the network's logits (oblivious to rejection), and
`RejectionAwarePGD` (the attack on the RBF layer and its rejection rule). For the deep RBF net the
white-box attacks run with the true gradient and with the training pseudo-gradient
(`PseudoGradient`). Columns: accuracy, rejection rate, ``robust_or_rejected`` (the defense's
success) and ``fooled_accepted`` (the attack's success: wrong, or the target for fooling images,
and accepted).
"""

from __future__ import annotations

from pathlib import Path

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "FPR", "PAPER_FINDING", "rbf"]

FPR = 0.05
"""Clean false-positive rate of both detectors' rejection thresholds."""

BUDGET = {
    "smoke": {
        "calibration": 250,
        "n_test": 300,
        "eps": (0.1, 0.2),
        "steps": 20,
        "rbf_epochs": 5,
        "deep_epochs": 4,
        "deep_widths": (128, 128, 128),
    },
    "full": {
        "calibration": 500,
        "n_test": 500,
        "eps": (0.1, 0.2, 0.3),
        "steps": 100,
        "rbf_epochs": 30,
        "deep_epochs": 30,
        "deep_widths": (512, 512, 512),
    },
}
"""Calibration / evaluation images, L-inf radii, PGD steps (alpha 2.5 eps / steps), training epochs, deep RBF widths."""

MARGIN = 10.0
"""lambda of the max-margin loss."""

DEEP_LEARNING_RATE = 1e-2
"""Adam step size of the deep RBF network (1e-3 and 3e-3 train too slowly at smoke scale)."""

PAPER_FINDING = {
    "rbf": "more robust against FGSM and iterative attacks (Foolbox), rejecting noise and adversarial inputs",
    "deep-rbf": "robustness against FGSM, I-FGSM and PGD improves (with a PGD weaker than usual)",
}
"""The findings as the workspace's summaries state them (no numbers are given)."""


def rbf(options: RunOptions) -> list[ResultTable]:
    """Train (or resume) both RBF networks, calibrate, attack; returns the published table."""
    import torch

    from core.device import pick_device
    from robust.attacks import PGD
    from robust.defenses.rbf import PseudoGradient, RBFConfig, RejectionAwarePGD, fit_rbf
    from robust.evaluate import attack_in_batches

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("mlp",))
    baseline = models["mlp"].cpu()
    c, size, _ = data.image_shape
    common = {
        "image_shape": (c, size),
        "num_classes": data.num_classes,
        "data": data.name,
        "seed": options.seed,
    }
    configs = {
        "rbf": RBFConfig(
            kind="rbf", architecture="mlp", margin=MARGIN, epochs=budget["rbf_epochs"], **common
        ),
        "deep-rbf": RBFConfig(
            kind="deep-rbf",
            widths=budget["deep_widths"],
            epochs=budget["deep_epochs"],
            learning_rate=DEEP_LEARNING_RATE,
            **common,
        ),
    }
    m, n = budget["calibration"], budget["n_test"]
    x, y = data.x_test[m : m + n], data.y_test[m : m + n]
    generator = torch.Generator().manual_seed(options.seed)
    noise = torch.rand(n, c, size, size, generator=generator)
    targets = (y + torch.randint(1, data.num_classes, (n,), generator=generator)) % data.num_classes
    steps = budget["steps"]
    table = ResultTable(
        "rbf",
        title=f"RBF output layer and deep RBF networks on {data.name} ({m} calibration, {n} test images, clean FPR {FPR})",
        data=data.describe(),
        notes=(
            f"L-inf PGD, {steps} steps of 2.5 eps / {steps}; fooling: targeted rejection-aware PGD from uniform noise "
            f"(eps 0.3, {steps} steps). RBF: mlp body, margin {MARGIN}, 25% noise images per batch. Deep RBF: widths "
            f"{budget['deep_widths']} (AND/OR alternating, 10 OR outputs), Adam {DEEP_LEARNING_RATE}. Paper findings "
            f"(summaries, no numbers): RBF: {PAPER_FINDING['rbf']}; deep RBF: {PAPER_FINDING['deep-rbf']}."
        ),
    )
    device = pick_device(options.device)

    def add(network: str, inputs: str, eps: float, net, x_in, wanted=None, clean_test=None) -> None:
        with torch.no_grad():
            predicted = torch.cat([net(x_in[s : s + 500]).argmax(1) for s in range(0, len(x_in), 500)])
            rejected = (
                net.reject(x_in) if hasattr(net, "reject") else torch.zeros(len(x_in), dtype=torch.bool)
            )
        right = predicted == y
        fooled = (predicted == wanted) if wanted is not None else ~right
        table.add(
            network=network,
            inputs=inputs,
            eps=eps,
            accuracy=float(right.float().mean()) if wanted is None else float("nan"),
            rejection_rate=float(rejected.float().mean()),
            robust_or_rejected=float((right | rejected).float().mean()) if wanted is None else float("nan"),
            fooled_accepted=float((fooled & ~rejected).float().mean()),
            **({"test_accuracy": clean_test} if clean_test is not None else {}),
        )

    def attack(a, x_in, y_in):
        return attack_in_batches(a, x_in, y_in, batch_size=100)[0]

    add("clean mlp", "clean", 0.0, baseline, x)
    for eps in budget["eps"]:
        add(
            "clean mlp",
            "PGD white box",
            eps,
            baseline,
            attack(PGD(baseline, eps=eps, alpha=2.5 * eps / steps, steps=steps), x, y),
        )
    transferred = {
        eps: attack(PGD(baseline, eps=eps, alpha=2.5 * eps / steps, steps=steps, seed=options.seed), x, y)
        for eps in budget["eps"]
    }
    for kind, config in configs.items():
        path = Path(options.out) / "models" / f"{data.name}-{kind}-seed{options.seed}.safetensors"
        net, history = fit_rbf(data, config, checkpoint=path, device=device)
        net = net.cpu()
        net.calibrate(data.x_test[:m], FPR)
        add(kind, "clean", 0.0, net, x, clean_test=history[-1]["test_accuracy"])
        add(kind, "uniform noise", 0.0, net, noise)
        fooling = RejectionAwarePGD(
            net, eps=0.3, alpha=2.5 * 0.3 / steps, steps=steps, targeted=True, seed=options.seed
        )
        add(
            kind,
            "fooling images from noise (targeted, aware)",
            0.3,
            net,
            attack(fooling, noise, targets),
            wanted=targets,
        )
        for eps in budget["eps"]:
            pgd = {"eps": eps, "alpha": 2.5 * eps / steps, "steps": steps, "seed": options.seed}
            add(kind, "PGD transferred from the clean mlp", eps, net, transferred[eps])
            add(kind, "PGD white box (oblivious to rejection)", eps, net, attack(PGD(net, **pgd), x, y))
            add(kind, "rejection-aware PGD", eps, net, attack(RejectionAwarePGD(net, **pgd), x, y))
            if kind == "deep-rbf":
                surrogate = PseudoGradient(net)
                add(kind, "PGD on the pseudo-gradient", eps, net, attack(PGD(surrogate, **pgd), x, y))
                add(
                    kind,
                    "rejection-aware PGD on the pseudo-gradient",
                    eps,
                    net,
                    attack(RejectionAwarePGD(surrogate, **pgd), x, y),
                )
        options.publish(table)
    return [table]
