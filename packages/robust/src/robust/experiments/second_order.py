"""``reproduce robust --only second-order``: the second-order attack (Li et al. 2018) against an
adversarially trained model and against the random-noise defense.

Table ``second_order``: L2 robust accuracy of (a) a LeNet trained with PGD adversarial training
(L-inf, Madry et al.'s recipe) and (b) the clean LeNet behind the random-noise defense (Gaussian
noise of sigma 0.3, majority vote over 32 draws), under first-order L2 PGD and under the
second-order attack (the same steps on gradients averaged over 10 Gaussian perturbations), at the
same L2 radius, step size and steps. For the noise defense both attacks run on the base model
(the vote has no gradient) and are judged by the defended model's vote. Paper finding (Li et al.):
the second-order attack lowers the accuracy of adversarially trained models further than PGD at
the same budget, and random noise at the input is a defense with certifiable robustness.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks import PGD, SecondOrder
from robust.evaluate import attack_in_batches
from robust.experiments.defended import defended_model
from robust.experiments.models import experiment_data, reference_models
from robust.experiments.universal_training import model_predict

__all__ = ["BUDGET", "second_order"]

BUDGET = {
    "smoke": {"n_test": 200, "eps_l2": (1.5, 2.5), "steps": 20, "samples": 10, "at_steps": 10},
    "full": {
        "n_test": 1000,
        "eps_l2": (1.0, 1.5, 2.0, 2.5, 3.0),
        "steps": 100,
        "samples": 20,
        "at_steps": 40,
    },
}
"""Test images, L2 radii, attack steps, noise samples per gradient, PGD-AT steps."""

AT_EPS, NOISE_SIGMA, ATTACK_SIGMA, VOTES = 0.2, 0.3, 0.3, 32


def second_order(options: RunOptions) -> list[ResultTable]:
    """First- vs second-order L2 attacks on a PGD-trained and a noise-defended LeNet; returns the table."""
    from robust.defenses import RandomNoise

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, ("lenet",))
    clean = models["lenet"]
    trained, _, _ = defended_model(
        options,
        data,
        "lenet",
        "pgdat",
        recipe="pgd",
        eps=AT_EPS,
        steps=budget["at_steps"],
        alpha=2.5 * AT_EPS / budget["at_steps"],
    )
    device = next(clean.parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    noise = RandomNoise(clean, NOISE_SIGMA, VOTES, seed=options.seed)
    targets = {
        f"PGD-trained LeNet (L-inf eps {AT_EPS})": (trained, trained),
        f"clean LeNet + random noise (sigma {NOISE_SIGMA}, {VOTES} votes)": (clean, noise),
    }
    table = ResultTable(
        "second_order",
        title=f"First- vs second-order L2 attacks ({len(x)} test images, {budget['steps']} steps)",
        data=data.describe(),
        notes=(
            "Li et al. (2018): the second-order attack (gradients averaged over Gaussian perturbations, "
            "normalised L2 steps) beats first-order PGD against adversarially trained models; Gaussian input noise "
            f"with a vote is their defense. Attack sigma {ATTACK_SIGMA}, {budget['samples']} samples per gradient; "
            "alpha = eps / 8, random start, same seed for both attacks."
        ),
    )
    steps = budget["steps"]
    for label, (attacked, judged) in targets.items():
        clean_ok = model_predict(judged, x) == y
        for eps in budget["eps_l2"]:
            attacks = {
                "PGD L2 (first order)": PGD(attacked, eps, eps / 8, steps, "l2", seed=options.seed),
                "second-order": SecondOrder(
                    attacked, eps, eps / 8, steps, ATTACK_SIGMA, budget["samples"], seed=options.seed
                ),
            }
            for name, attack in attacks.items():
                x_adv, cost = attack_in_batches(attack, x, y, 100)
                right = model_predict(judged, x_adv) == y
                table.add(
                    model=label,
                    attack=name,
                    eps_l2=eps,
                    clean_accuracy=float(clean_ok.float().mean()),
                    robust_accuracy=float(right.float().mean()),
                    gradient_calls=float(cost.float().mean()),
                )
    options.publish(table)
    return [table]
