"""``reproduce robust --only dknn``: deep k-nearest neighbours (Papernot & McDaniel 2018) on MNIST.

Madry et al.'s MNIST net (`reference_models`' ``"cnn"``) wrapped in `DkNN` with k = `K` over
the outputs of both pooling layers, the fully connected ReLU and the logits; the first
``calibration`` test images calibrate (the paper holds out 750 of MNIST's 10,000), the next
``n_test`` are evaluated. FGSM and BIM are crafted on the network and transferred to DkNN, as in
the paper (its MNIST budgets: eps 0.25; BIM 100 steps of 0.01, fewer larger steps at smoke), and
plain PGD likewise; the adaptive attack (`robust.defenses.dknn_attack.DkNNFeatureAttack`, Sitawarin &
Wagner 2019) attacks DkNN itself, pulling every indexed layer towards a target class's training
neighbours so that the classifier is fooled while credibility stays high.

Table ``dknn``: for clean inputs and each attack, the network's and DkNN's accuracy beside the
paper's, mean credibility, and `evaluate`'s rejection columns at credibility < `REJECT_BELOW` (the
clean row's rejection rate and accepted accuracy are those of the clean inputs).
Table ``dknn_credibility``: the histogram of credibility (10 bins on [0, 1]) of clean and
adversarial inputs: the paper's finding is that adversarial inputs get low credibility.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "PAPER_FINDING", "REJECT_BELOW", "K", "dknn"]

K = 75
"""Neighbours per layer (the paper's k for MNIST)."""

REJECT_BELOW = 0.1
"""Credibility threshold of `DkNN.reject` in the table (about a 10% clean rejection rate)."""

ARCHITECTURE = "cnn"
LAYERS = (2, 5, 8, 9)
"""Indices of the cnn's children indexed: both max-pools, the fc ReLU, the logits."""

BUDGET = {
    "smoke": {"calibration": 250, "n_test": 500, "bim_steps": 20, "bim_alpha": 0.025, "adaptive_steps": 40},
    "full": {"calibration": 750, "n_test": 250, "bim_steps": 100, "bim_alpha": 0.01, "adaptive_steps": 200},
}
"""Calibration and evaluation images (of the 1,000 test images of MNIST-5000), BIM steps and step size,
steps of the plain PGD and of the adaptive feature-space attack (both of 2.5 eps / steps)."""

PAPER_FINDING = "confidences are more reliable on out-of-distribution samples, including adversarial examples"
"""Papernot & McDaniel's finding as the workspace's summary states it (the summary gives no accuracy numbers,
so none are quoted)."""


def dknn(options: RunOptions) -> list[ResultTable]:
    """Fit DkNN on the reference cnn, evaluate it under transferred FGSM/BIM; returns the tables."""
    import torch

    from robust.attacks import BIM, FGSM, PGD
    from robust.defenses.dknn import DkNN
    from robust.defenses.dknn_attack import DkNNFeatureAttack
    from robust.evaluate import attack_in_batches, rejection_columns
    from robust.models import accuracy

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, (ARCHITECTURE,))
    network = models[ARCHITECTURE].cpu()
    m, n = budget["calibration"], budget["n_test"]
    x_cal, y_cal = data.x_test[:m], data.y_test[:m]
    x, y = data.x_test[m : m + n], data.y_test[m : m + n]
    defense = DkNN(
        network, data.x_train, data.y_train, x_cal, y_cal, k=K, layers=LAYERS, reject_below=REJECT_BELOW
    )
    steps = budget["adaptive_steps"]
    attacks = {
        "fgsm": FGSM(network, eps=0.25),
        "bim": BIM(network, eps=0.25, alpha=budget["bim_alpha"], steps=budget["bim_steps"]),
        "pgd": PGD(network, eps=0.25, alpha=2.5 * 0.25 / steps, steps=steps, seed=options.seed),
        "adaptive (feature-space, Sitawarin & Wagner)": DkNNFeatureAttack(
            defense, data.x_train, eps=0.25, alpha=2.5 * 0.25 / steps, steps=steps, seed=options.seed
        ),
    }
    inputs = {"clean": x, **{name: attack_in_batches(attack, x, y)[0] for name, attack in attacks.items()}}
    table = ResultTable(
        "dknn",
        title=f"Deep k-NN on {data.name} ({ARCHITECTURE}, k = {K}, {m} calibration, {len(x)} test images)",
        data=data.describe(),
        notes=(
            "FGSM, BIM and PGD crafted on the network, transferred to DkNN (the paper's setting), L-inf eps 0.25; "
            f"BIM {budget['bim_steps']} steps of {budget['bim_alpha']}, PGD (random start) and the adaptive attack "
            f"{steps} steps of {2.5 * 0.25 / steps:.4g}; adaptive: DkNNFeatureAttack, every indexed layer pulled "
            f"towards the {K} nearest training images (fc layer) of the nearest other class there. "
            f"fooled_and_accepted: wrong DkNN class and not rejected. Rejection: credibility < {REJECT_BELOW} "
            "(robust.evaluate.rejection_columns). Paper's finding (as the summary states it, no numbers): "
            f"{PAPER_FINDING}."
        ),
    )
    correct = defense(x).argmax(1) == y
    rejected_clean = defense.reject(x)
    for name, x_in in inputs.items():
        robust = defense(x_in).argmax(1) == y
        columns = rejection_columns(rejected_clean, correct, defense.reject(x_in), robust)
        table.add(
            inputs=name,
            network_accuracy=accuracy(network, x_in, y),
            dknn_accuracy=float(robust.float().mean()),
            mean_credibility=float(defense.credibility(x_in).mean()),
            rejection_rate=columns["adversarial_rejection_rate"],
            accepted_accuracy=columns["accepted_robust_accuracy"],
            robust_or_rejected=columns["robust_or_rejected"],
            fooled_and_accepted=1 - columns["robust_or_rejected"],
        )
    options.publish(table)
    histogram = ResultTable(
        "dknn_credibility",
        title="DkNN credibility histogram (fraction of inputs per bin)",
        data=data.describe(),
        notes="Bins of width 0.1 on [0, 1]; the last bin includes 1.",
    )
    edges = torch.linspace(0, 1, 11)
    for name, x_in in inputs.items():
        credibility = defense.credibility(x_in)
        bins = torch.bucketize(credibility, edges[1:-1], right=True)
        counts = torch.bincount(bins, minlength=10).float() / len(credibility)
        histogram.add(
            inputs=name, **{f"{edges[i]:.1f}-{edges[i + 1]:.1f}": float(counts[i]) for i in range(10)}
        )
    options.publish(histogram)
    return [table, histogram]
