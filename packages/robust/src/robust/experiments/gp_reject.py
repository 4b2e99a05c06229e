"""``reproduce robust --only gp-reject``: Gaussian-process rejection (Grosse et al. 2018) and the attack on it.

Madry et al.'s MNIST net (`reference_models`' ``"cnn"``) with an exact GP (`robust.defenses.gp_reject`)
on its 1,024 fully connected ReLU features of ``points`` training images (one-hot targets,
hyperparameters by marginal likelihood). The first ``calibration`` test images set the variance
threshold at a clean false-positive rate of `FPR`; the next ``n_test`` are evaluated.

Table ``gp_reject``, one row per input set: clean; FGSM and PGD crafted on the network and
transferred (the adversarial examples the paper finds the GP flags); PGD on the GP's own logits,
oblivious to the variance test; and the paper's attack, `GPAwarePGD` (maximise the wrong-class GP
confidence with the variance held at most at the benign input's, ``reference="clean"``, or at the
detector's threshold, ``reference="threshold"``). Columns: the network's and the GP's accuracy, the
rejection rate, accuracy among accepted inputs, ``robust_or_rejected`` (the detector's success),
``fooled_accepted`` (the attack's success: misclassified and not rejected) and the mean variance
over the threshold. Table ``gp_variance``: the histogram of variance / threshold for each input set.
"""

from __future__ import annotations

import itertools

from core.cli import RunOptions
from core.results import ResultTable
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "FPR", "PAPER_FINDING", "gp_reject"]

FPR = 0.05
"""Clean false-positive rate of the variance test."""

BUDGET = {
    "smoke": {
        "points": 300,
        "calibration": 250,
        "n_test": 300,
        "eps": (0.1, 0.2),
        "steps": 20,
        "fit_steps": 100,
    },
    "full": {
        "points": 1000,
        "calibration": 500,
        "n_test": 500,
        "eps": (0.1, 0.2, 0.3),
        "steps": 100,
        "fit_steps": 200,
    },
}
"""GP training points, calibration / evaluation images, L-inf radii, PGD steps (alpha 2.5 eps / steps)."""

PAPER_FINDING = (
    "GPs reject some adversarial examples by their confidence and uncertainty, but attacks maximising confidence "
    "with the uncertainty held at most at the benign example's still succeed"
)
"""Grosse et al.'s finding as the workspace's summary states it (no numbers are given)."""

ARCHITECTURE = "cnn"


def gp_reject(options: RunOptions) -> list[ResultTable]:
    """Fit the GP detector on the reference cnn and run the attacks; returns the two tables."""
    import torch

    from robust.attacks import FGSM, PGD
    from robust.defenses.gp_reject import GPAwarePGD, GPDetector
    from robust.evaluate import attack_in_batches, rejection_columns
    from robust.models import accuracy

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, (ARCHITECTURE,))
    network = models[ARCHITECTURE].cpu()
    m, n = budget["calibration"], budget["n_test"]
    x, y = data.x_test[m : m + n], data.y_test[m : m + n]
    detector = GPDetector(
        network,
        data.x_train,
        data.y_train,
        data.x_test[:m],
        points=budget["points"],
        fpr=FPR,
        fit_steps=budget["fit_steps"],
        seed=options.seed,
    )
    gp = detector.gp
    inputs: dict[str, tuple[float, torch.Tensor]] = {"clean": (0.0, x)}
    steps = budget["steps"]
    for eps in budget["eps"]:
        pgd = {"eps": eps, "alpha": 2.5 * eps / steps, "steps": steps, "seed": options.seed}
        attacks = {
            "FGSM transferred from the network": FGSM(network, eps=eps),
            "PGD transferred from the network": PGD(network, **pgd),
            "PGD on the GP (oblivious to the variance)": PGD(detector, **pgd),
            "GP-aware PGD, variance <= clean (paper)": GPAwarePGD(detector, **pgd, reference="clean"),
            "GP-aware PGD, variance <= threshold": GPAwarePGD(detector, **pgd, reference="threshold"),
        }
        for name, attack in attacks.items():
            inputs[f"{name}, eps {eps}"] = (eps, attack_in_batches(attack, x, y, batch_size=100)[0])
    table = ResultTable(
        "gp_reject",
        title=f"GP rejection on {data.name} ({ARCHITECTURE} fc features, {budget['points']} GP points, "
        f"{m} calibration, {n} test images, clean FPR {FPR})",
        data=data.describe(),
        notes=(
            f"GP: lengthscale {gp.lengthscale:.3g}, signal {gp.signal:.3g}, noise {gp.noise:.3g}; variance threshold "
            f"{detector.threshold:.4g}. L-inf attacks, {steps} steps of 2.5 eps / {steps}. fooled_accepted: "
            f"misclassified by the GP and not rejected (the attack's success). Paper (summary, no numbers): {PAPER_FINDING}."
        ),
    )
    with torch.no_grad():
        correct = detector(x).argmax(1) == y
        rejected_clean = detector.reject(x)
        for name, (eps, x_in) in inputs.items():
            predicted = detector(x_in).argmax(1)
            rejected = detector.reject(x_in)
            robust = predicted == y
            columns = rejection_columns(rejected_clean, correct, rejected, robust)
            table.add(
                inputs=name,
                eps=eps,
                network_accuracy=accuracy(network, x_in, y),
                gp_accuracy=float(robust.float().mean()),
                rejection_rate=columns["adversarial_rejection_rate"],
                accepted_accuracy=columns["accepted_robust_accuracy"],
                robust_or_rejected=columns["robust_or_rejected"],
                fooled_accepted=float((~robust & ~rejected).float().mean()),
                variance_over_threshold=float(detector.variance(x_in).mean() / detector.threshold),
            )
    options.publish(table)
    histogram = ResultTable(
        "gp_variance",
        title="GP predictive variance / rejection threshold: fraction of inputs per bin (> 1 is rejected)",
        data=data.describe(),
    )
    edges = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, float("inf")]
    with torch.no_grad():
        for name, (_, x_in) in inputs.items():
            ratio = detector.variance(x_in) / detector.threshold
            histogram.add(
                inputs=name,
                **{
                    f"{lo:g}-{hi:g}": float(((ratio > lo) & (ratio <= hi)).float().mean())
                    for lo, hi in itertools.pairwise(edges)
                },
            )
    options.publish(histogram)
    return [table, histogram]
