"""``reproduce robust --only attacks``: the attack library on clean reference models.

Tables (each published as soon as it is computed):

- ``reference_models``: the clean classifiers attacked (Madry et al.'s MNIST CNN, a LeNet, an MLP).
- ``robust_accuracy_vs_eps``: robust accuracy of the CNN under FGSM, BIM, PGD (L-inf), MI-FGSM and
  DI-FGSM over eps, and PGD-L2 over its radius. Paper finding (Madry et al. 2018, Fig. 1 and
  Sec. 5): a naturally trained MNIST network loses almost all its accuracy to PGD at eps = 0.3,
  and iterative attacks are stronger than FGSM.
- ``transfer``: adversarial examples crafted on the CNN with I-FGSM, DI2-FGSM, MI-FGSM and
  M-DI2-FGSM, evaluated on the LeNet and the MLP. Paper finding (Xie et al. 2019, Tables 1-2):
  input diversity raises the black-box (transfer) success rate over I-FGSM, and momentum adds
  to it, at a small cost in white-box success.

Figures: ``robust_accuracy_vs_eps.png`` and ``examples_pgd.png`` (original, adversarial, perturbation).
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.results import ResultTable
from robust.attacks import make_attack
from robust.evaluate import attack_in_batches, evaluate
from robust.experiments.models import experiment_data, reference_models
from robust.guard import evaluation_mode
from robust.plots import save_accuracy_curves, save_example_grid

__all__ = ["BUDGET", "attacks"]

BUDGET = {
    "smoke": {"n_test": 200, "steps": 10, "eps_linf": (0.05, 0.1, 0.2, 0.3), "eps_l2": (0.5, 1.0, 2.0, 3.0)},
    "full": {
        "n_test": 1000,
        "steps": 40,
        "eps_linf": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
        "eps_l2": (0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
    },
}
"""Test images, attack steps and eps grids of each scale (Madry et al.'s MNIST attack uses 40 steps)."""

TRANSFER_EPS = 0.2
"""L-inf budget of the transfer experiment on MNIST digits."""


def attacks(options: RunOptions) -> list[ResultTable]:
    """Run the attack experiment; returns its tables (already published)."""
    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, reference = reference_models(options, data)
    options.publish(reference)
    device = next(models["cnn"].parameters()).device
    x, y = data.x_test[: budget["n_test"]].to(device), data.y_test[: budget["n_test"]].to(device)
    sweep = robust_accuracy_vs_eps(models["cnn"], x, y, budget, options.seed, data.describe())
    options.publish(sweep)
    save_accuracy_curves(
        sweep, Path(options.out) / "robust_accuracy_vs_eps.png", title="Clean CNN on " + data.name
    )
    examples = make_attack(
        "pgd", models["cnn"], eps=0.3, alpha=2.5 * 0.3 / budget["steps"], steps=budget["steps"]
    )
    x_adv = examples(x[:8], y[:8])
    with evaluation_mode(models["cnn"]), torch.no_grad():
        predicted = models["cnn"](x_adv).argmax(1).tolist()
    save_example_grid(
        x[:8],
        x_adv,
        Path(options.out) / "examples_pgd.png",
        title="PGD L-inf eps 0.3 on the clean CNN",
        labels=[f"{a}->{b}" for a, b in zip(y[:8].tolist(), predicted)],
    )
    table = transfer(models, x, y, budget["steps"], options.seed, data.describe())
    options.publish(table)
    return [reference, sweep, table]


def robust_accuracy_vs_eps(model, x, y, budget, seed: int, data: str) -> ResultTable:
    """`evaluate` rows for every white-box attack over the eps grids (alpha = 2.5 eps / steps)."""
    steps = budget["steps"]
    specs = []
    for eps in budget["eps_linf"]:
        alpha = 2.5 * eps / steps
        specs += [
            ("fgsm", {"eps": eps}),
            ("bim", {"eps": eps, "alpha": alpha, "steps": steps}),
            ("pgd", {"eps": eps, "alpha": alpha, "steps": steps, "seed": seed}),
            ("mifgsm", {"eps": eps, "alpha": alpha, "steps": steps}),
            ("difgsm", {"eps": eps, "alpha": alpha, "steps": steps, "seed": seed}),
        ]
    for eps in budget["eps_l2"]:
        specs.append(("pgd-l2", {"eps": eps, "alpha": 2.5 * eps / steps, "steps": steps, "seed": seed}))
    table = evaluate(model, (x, y), specs, name="robust_accuracy_vs_eps")
    table.title = f"Robust accuracy of the clean MNIST CNN against eps ({len(x)} test images, {steps} steps)"
    table.data = data
    table.notes = (
        "Paper (Madry et al. 2018): a naturally trained MNIST net is driven to near-zero accuracy by PGD at "
        "eps = 0.3; iterative attacks beat FGSM. alpha = 2.5 eps / steps (Madry et al.'s rule)."
    )
    return table


class LogitEnsemble(torch.nn.Module):
    """Mean logits of several classifiers (an ensemble source for transfer attacks, as in Xie et al.)."""

    def __init__(self, members: list[torch.nn.Module]) -> None:
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(0)


def transfer(
    models,
    x,
    y,
    steps: int,
    seed: int,
    data: str,
    resize_rates: tuple[float, ...] = (0.9,),
    name: str = "transfer",
    sources: tuple[str, ...] = ("cnn",),
) -> ResultTable:
    """Transfer rates from the CNN to the other architectures for (M-)I-FGSM and (M-)DI2-FGSM
    (one DI row pair per resize rate; 0.9 is the paper's 299 -> [279, 330) range as a shrink).

    The transfer rate counts examples every model classifies correctly when clean: the share of
    them whose adversarial example (crafted on the source) the target misclassifies.
    """
    source = models[sources[0]] if len(sources) == 1 else LogitEnsemble([models[s] for s in sources])
    targets = {name: model for name, model in models.items() if name not in sources}
    eps, alpha = TRANSFER_EPS, 2.5 * TRANSFER_EPS / steps
    attacks_ = {
        "I-FGSM": ("bim", {"eps": eps, "alpha": alpha, "steps": steps}),
        "MI-FGSM": ("mifgsm", {"eps": eps, "alpha": alpha, "steps": steps, "decay": 1.0}),
    }
    for rate in resize_rates:
        suffix = "" if resize_rates == (0.9,) else f" (resize {rate:g})"
        common = {"eps": eps, "alpha": alpha, "steps": steps, "seed": seed, "resize_rate": rate}
        attacks_[f"DI2-FGSM{suffix}"] = ("difgsm", common)
        attacks_[f"M-DI2-FGSM{suffix}"] = ("difgsm", {**common, "decay": 1.0})

    def predict(model, images):
        with evaluation_mode(model), torch.no_grad():
            return model(images).argmax(1)

    clean_ok = torch.stack([predict(m, x) == y for m in models.values()]).all(0)
    table = ResultTable(
        name,
        title=(
            f"Transfer from {' + '.join(sources)} (L-inf eps {eps}, {steps} steps; "
            f"{int(clean_ok.sum())} images all models get right)"
        ),
        data=data,
        notes=(
            "Paper (Xie et al. 2019): input diversity (DI2-FGSM, p = 0.5) transfers better than I-FGSM, and "
            "momentum adds to it (M-DI2-FGSM best). Rates are shares of the images all three models classify "
            "correctly when clean."
        ),
    )
    for label, (name, budget) in attacks_.items():
        attack = make_attack(name, source, **budget)
        x_adv, _ = attack_in_batches(attack, x, y)
        row = {
            "attack": label,
            "white_box_success": float((predict(source, x_adv) != y)[clean_ok].float().mean()),
        }
        for target_name, target in targets.items():
            row[f"transfer_to_{target_name}"] = float((predict(target, x_adv) != y)[clean_ok].float().mean())
        table.add(**row)
    return table
