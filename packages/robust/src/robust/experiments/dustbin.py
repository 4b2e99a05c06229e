"""``reproduce robust --only dustbin``: out-distribution ('dustbin') training (Abbasi & Gagné 2018).

The LeNet of the other experiments, trained on MNIST (clean), against the same net with an 11th
output trained on MNIST plus NotMNIST-like letters labelled dustbin (`robust.defenses.dustbin`:
A-J rendered with matplotlib's fonts; the dustbin is tested on letters of fonts held out from its
training). Table ``dustbin``: for each attack, the share of test digits classified correctly, the
share rejected (put in the dustbin) and the share either correct or rejected (the defense's
success), on clean digits, on PGD examples crafted on the clean LeNet (transferred: the setting
the paper's claim is about), on PGD against the dustbin net's digit logits (white box, oblivious to
the dustbin) and on PGD that also avoids the dustbin (adaptive); plus the rejection rate of
held-out letters. The paper's finding: the augmented network puts many adversarial examples in
the dustbin while keeping its clean accuracy.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.cli import RunOptions
from core.results import ResultTable
from robust.defenses.dustbin import Dustbin, DustbinAwarePGD, font_files, render_letters, with_dustbin
from robust.evaluate import evaluate
from robust.experiments.models import EPOCHS, experiment_data, reference_models
from robust.models import ModelConfig
from robust.train import TrainConfig, fit

__all__ = ["BUDGET", "dustbin"]

BUDGET = {
    "smoke": {"n_test": 500, "eps": (0.1, 0.2), "steps": 20},
    "full": {"n_test": 1000, "eps": (0.1, 0.2, 0.3), "steps": 40},
}
"""Test images, L-inf eps grid and PGD steps of each scale."""

ARCHITECTURE = "lenet"
HELD_OUT_EVERY = 3
"""Every third font (by name) draws only test letters."""


def dustbin(options: RunOptions) -> list[ResultTable]:
    """Train the dustbin LeNet (resumable) and evaluate both nets; returns the published table."""
    from core.device import pick_device

    budget = BUDGET[options.scale]
    data = experiment_data(options)
    models, _ = reference_models(options, data, (ARCHITECTURE,))
    plain = models[ARCHITECTURE]
    fonts = font_files()
    test_fonts = fonts[::HELD_OUT_EVERY]
    train_fonts = [f for f in fonts if f not in test_fonts]
    letters_train = render_letters(
        len(data.x_train), train_fonts, size=data.image_shape[1], seed=options.seed
    )
    letters_test = render_letters(
        len(data.x_test), test_fonts, size=data.image_shape[1], seed=options.seed + 1
    )
    augmented = with_dustbin(data, letters_train, letters_test)
    c, size, _ = data.image_shape
    config = TrainConfig(
        model=ModelConfig(ARCHITECTURE, in_channels=c, image_size=size, num_classes=augmented.num_classes),
        data=augmented.name,
        epochs=EPOCHS[options.scale][ARCHITECTURE],
        seed=options.seed,
    )
    path = Path(options.out) / "models" / f"{augmented.name}-{ARCHITECTURE}-seed{options.seed}.safetensors"
    network, history = fit(augmented, config, checkpoint=path, device=pick_device(options.device))
    # The control for transfer: a clean LeNet of another seed sees the same transferred examples.
    control_config = TrainConfig(
        model=ModelConfig(ARCHITECTURE, in_channels=c, image_size=size, num_classes=data.num_classes),
        data=data.name,
        epochs=EPOCHS[options.scale][ARCHITECTURE],
        seed=options.seed + 1,
    )
    control_path = (
        Path(options.out) / "models" / f"{data.name}-{ARCHITECTURE}-seed{options.seed + 1}.safetensors"
    )
    other_seed, _ = fit(data, control_config, checkpoint=control_path, device=pick_device(options.device))
    detector = Dustbin(network).eval()
    device = next(plain.parameters()).device
    n = budget["n_test"]
    x, y = data.x_test[:n].to(device), data.y_test[:n].to(device)
    steps = budget["steps"]
    table = ResultTable(
        "dustbin",
        title=f"Dustbin training on {data.name} ({ARCHITECTURE}; {n} test digits; L-inf PGD, {steps} steps of eps/8)",
        data=augmented.describe(),
        notes=(
            "correct = classified as its digit; rejected = put in the dustbin; defended = correct or rejected. "
            "transferred: crafted on the clean LeNet; plain_correct of those rows: a clean LeNet of another seed on "
            "the same examples (the transfer control); oblivious: PGD on the dustbin net's 10 digit logits; "
            "adaptive: PGD ascending -log(p_y + p_dustbin). Letters of held-out fonts: "
            f"{[f.name for f in test_fonts]}. Dustbin net test accuracy on digits + letters (11 classes): "
            f"{history[-1]['test_accuracy']:.3f}. Abbasi & Gagné: many adversarial examples land in the dustbin."
        ),
    )
    with torch.no_grad():
        letters_rejected = float(detector.reject(letters_test[:n].to(device)).float().mean())
        plain_correct = float((plain(x).argmax(1) == y).float().mean())
        rejected = detector.reject(x)
        correct = (detector(x).argmax(1) == y) & ~rejected
    table.add(
        attack="none (clean digits)",
        eps=0.0,
        plain_correct=plain_correct,
        dustbin_correct=float(correct.float().mean()),
        dustbin_rejected=float(rejected.float().mean()),
        dustbin_defended=float((correct | rejected).float().mean()),
        letters_rejected=letters_rejected,
    )
    for eps in budget["eps"]:
        pgd = {"eps": eps, "alpha": eps / 8, "steps": steps, "seed": options.seed}
        white_box_on_plain = evaluate(plain, (x, y), [("pgd", pgd)]).rows[0]["robust_accuracy"]
        table.add(attack="PGD white box on the clean LeNet itself", eps=eps, plain_correct=white_box_on_plain)
        for name, spec in (("FGSM", ("fgsm", {"eps": eps})), ("PGD", ("pgd", pgd))):
            control = evaluate(other_seed, (x, y), [spec], attack_model=plain).rows[0]["robust_accuracy"]
            row = evaluate(detector, (x, y), [spec], attack_model=plain).rows[0]
            _add(table, f"{name} transferred from the clean LeNet", eps, row, control)
        _add(table, "PGD, oblivious to the dustbin", eps, evaluate(detector, (x, y), [("pgd", pgd)]).rows[0])
        adaptive = evaluate(detector, (x, y), [DustbinAwarePGD(detector, **pgd)]).rows[0]
        _add(table, "PGD avoiding the dustbin (adaptive)", eps, adaptive)
    options.publish(table)
    return [table]


def _add(table: ResultTable, attack: str, eps: float, row: dict, control: float = float("nan")) -> None:
    table.add(
        attack=attack,
        eps=eps,
        plain_correct=control,
        dustbin_correct=_accepted_correct(row),
        dustbin_rejected=row["adversarial_rejection_rate"],
        dustbin_defended=row["robust_or_rejected"],
    )


def _accepted_correct(row: dict) -> float:
    """Share of all inputs classified correctly and not rejected."""
    return row["robust_or_rejected"] - row["adversarial_rejection_rate"]
