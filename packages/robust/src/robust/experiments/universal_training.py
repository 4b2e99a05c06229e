"""``reproduce robust --only universal-training``: training against universal perturbations.

Table ``universal_training``: a LeNet on MNIST trained clean, with universal adversarial training
(Shafahi et al. 2020: one perturbation updated by the same backward pass as the weights), with
the game-theoretic fictitious-play variant (Perolat et al. 2018: train against the mixture of past
best-response universal perturbations) and with PGD adversarial training (Madry et al.; the
per-image reference). For each: clean test accuracy, the held-out fooling rate of a *fresh*
universal perturbation fitted against the final model (Shafahi et al.'s SGD generator and
Moosavi-Dezfooli et al.'s DeepFool construction), PGD robust accuracy, and training time.
Paper findings: universal adversarial training makes a model resistant to universal
perturbations at about the cost of clean training (PGD training costs ``steps + 1`` times more);
fictitious play converges to a model that no single universal perturbation fools much.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks.universal import fit_deepfool_universal, fit_universal_perturbation, fooling_rate
from robust.evaluate import evaluate
from robust.experiments.defended import defended_model
from robust.experiments.models import experiment_data, reference_models

__all__ = ["BUDGET", "universal_training"]

BUDGET = {
    "smoke": {
        "eps": 0.2,
        "n_fit": 1000,
        "n_test": 1000,
        "n_pgd": 200,
        "deepfool_images": 500,
        "pgd_steps": 10,
    },
    "full": {
        "eps": 0.2,
        "n_fit": 4000,
        "n_test": 1000,
        "n_pgd": 1000,
        "deepfool_images": 2000,
        "pgd_steps": 40,
    },
}
"""L-inf eps of training and attacks, images for the fresh perturbations and for PGD, PGD-AT steps."""

ARCHITECTURE = "lenet"


def universal_training(options: RunOptions) -> list[ResultTable]:
    """Train the four models and attack each with fresh universal perturbations; returns the table."""
    budget = BUDGET[options.scale]
    eps = budget["eps"]
    data = experiment_data(options)
    models, reference = reference_models(options, data, (ARCHITECTURE,))
    device = next(models[ARCHITECTURE].parameters()).device
    entries = {"clean": (models[ARCHITECTURE], [{"train_seconds": reference.rows[0]["train_seconds"]}])}
    recipes = {
        "universal AT (Shafahi et al.)": (
            "uat",
            {"recipe": "universal", "eps": eps, "universal_alpha": 0.003},
        ),
        "fictitious play (Perolat et al.)": (
            "fp",
            {"recipe": "universal-fp", "eps": eps, "fp_images": budget["n_fit"]},
        ),
        "PGD AT (Madry et al.)": (
            "pgdat",
            {
                "recipe": "pgd",
                "eps": eps,
                "steps": budget["pgd_steps"],
                "alpha": 2.5 * eps / budget["pgd_steps"],
            },
        ),
    }
    for label, (name, fields) in recipes.items():
        model, history, _ = defended_model(options, data, ARCHITECTURE, name, **fields)
        entries[label] = (model, history)
    x_fit, y_fit = data.x_train[: budget["n_fit"]].to(device), data.y_train[: budget["n_fit"]].to(device)
    x_test, y_test = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    table = ResultTable(
        "universal_training",
        title=f"Training against universal perturbations ({ARCHITECTURE}, L-inf eps {eps})",
        data=data.describe(),
        notes=(
            "Fresh perturbations are fitted against each final model on the first training images and measured on "
            "held-out test images. Papers: universal AT resists universal perturbations at about clean-training cost "
            "(Shafahi et al. 2020, on CIFAR-10/ImageNet); fictitious play against past best responses ends with "
            "a model no single universal perturbation fools much (Perolat et al. 2018)."
        ),
    )
    clean_seconds = None
    for label, (model, history) in entries.items():
        sgd = fit_universal_perturbation(model, x_fit, y_fit, eps, epochs=3, seed=options.seed)
        deepfool = fit_deepfool_universal(
            model, x_fit[: budget["deepfool_images"]], eps, max_passes=2, batch_size=50, seed=options.seed
        )
        pgd = ("pgd", {"eps": eps, "alpha": 2.5 * eps / 10, "steps": 10, "seed": options.seed})
        row = evaluate(model, (x_test[: budget["n_pgd"]], y_test[: budget["n_pgd"]]), [pgd]).rows[0]
        seconds = history[-1]["train_seconds"]
        clean_seconds = seconds if clean_seconds is None else clean_seconds
        table.add(
            training=label,
            clean_accuracy=float((model_predict(model, x_test) == y_test).float().mean()),
            universal_sgd_fooling_rate=fooling_rate(model, x_test, sgd.perturbation),
            universal_deepfool_fooling_rate=fooling_rate(model, x_test, deepfool.perturbation),
            pgd_robust_accuracy=row["robust_accuracy"],
            train_seconds=seconds,
            time_vs_clean=seconds / clean_seconds,
        )
    options.publish(table)
    return [table]


def model_predict(model, x):
    """Predicted classes of ``x`` in batches of 500 (eval mode, no gradients)."""
    import torch

    from robust.guard import evaluation_mode

    with evaluation_mode(model), torch.no_grad():
        return torch.cat([model(x[i : i + 500]).argmax(1) for i in range(0, len(x), 500)])
