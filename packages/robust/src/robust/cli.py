"""``robust`` command line: list attacks, train a reference model, evaluate attacks on it, reproduce.

Nothing heavy is imported at module level: ``robust --help`` (and every sub-command's help) never
imports torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    config_from_args,
    dispatch,
    existing_file,
    package_cli,
    positive_int,
)
from core.errors import InputError
from core.reproduce import add_reproduce_command

DESCRIPTION = (
    "Adversarial robustness: a torchattacks-like attack library (FGSM, BIM, PGD L-inf/L2, MI-FGSM, "
    "DI-FGSM, DeepFool, the second-order attack, NES and LF-NES, boundary attack and LF-BA, "
    "rotation/translation grid, stAdv, ADef, perceptual PGD, universal perturbations, BPDA, EOT) on "
    "real digits, training defenses (PGD-AT, ALP, universal AT, IBP) and IBP verification; analyses "
    "are planned (see the README)."
)


def parse_attack(text: str) -> tuple[str, dict[str, object]]:
    """``"pgd:eps=0.3,steps=40,random_start=false"`` -> ``("pgd", {"eps": 0.3, "steps": 40, ...})``.

    Raises:
        InputError: a budget item without ``=`` (naming it).
    """
    name, _, rest = text.partition(":")
    budget: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(
                "attack budget items must look like key=value", item=item, expected="pgd:eps=0.3,steps=40"
            )
        budget[key.strip().replace("-", "_")] = _value(value.strip())
    return name.strip(), budget


def _value(text: str) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if "/" in text:  # fractions such as 8/255
        top, _, bottom = text.partition("/")
        try:
            return float(top) / float(bottom)
        except (ValueError, ZeroDivisionError):
            pass
    return text


def _attacks(args: argparse.Namespace) -> int:
    import inspect

    from robust.attacks import ATTACKS

    for name, cls in ATTACKS.items():
        parameters = inspect.signature(cls.__init__).parameters.values()
        defaults = ", ".join(
            f"{p.name}={p.default!r}"
            for p in parameters
            if p.name not in ("self", "model") and p.default is not p.empty
        )
        print(f"{name:8s} {cls.__name__:7s} {defaults}")
    return 0


def _training_run(args: argparse.Namespace):
    """The data set and `TrainConfig` a ``train`` or ``defend`` command asks for."""
    from robust.config import ModelConfig, TrainConfig
    from robust.data import load_dataset

    data = load_dataset(args.dataset, args.data)
    c, size, _ = data.image_shape
    model = config_from_args(
        ModelConfig,
        args,
        in_channels=c,
        image_size=size,
        num_classes=data.num_classes,
        widths=tuple(args.widths),
    )
    return data, config_from_args(TrainConfig, args, model=model, data=data.name)


def _report(history: list[dict[str, float]], checkpoint: Path) -> int:
    last = history[-1]
    print(f"epoch {last['epoch']}: test accuracy {last['test_accuracy']:.4f}; checkpoint {checkpoint}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from robust.train import fit

    data, config = _training_run(args)
    _, history = fit(data, config, checkpoint=args.checkpoint, device=pick_device(args.device))
    return _report(history, args.checkpoint)


def _defend(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from robust.defenses import DefenseConfig, fit_defense

    data, train = _training_run(args)
    extra = {}
    if args.cost_preset is not None:
        from robust.certify.cost import cost_matrix

        extra["cost_matrix"] = cost_matrix(args.cost_preset, data.num_classes)
    config = config_from_args(DefenseConfig, args, train=train, **extra)
    _, history = fit_defense(data, config, checkpoint=args.checkpoint, device=pick_device(args.device))
    return _report(history, args.checkpoint)


def _load_any(path: Path, device):
    """A model and its `TrainConfig` from a checkpoint of `robust train` or of `robust defend`."""
    import json

    from safetensors import safe_open

    from robust.defenses import load_defense
    from robust.train import load_model

    try:
        with safe_open(str(path), "pt") as handle:
            saved = json.loads((handle.metadata() or {}).get("config", "{}"))
    except Exception:  # not a readable checkpoint: load_model reports it in one line
        saved = {}
    if isinstance(saved, dict) and "recipe" in saved and "train" in saved:
        model, config = load_defense(path, device=device)
        return model, config.train
    return load_model(path, device=device)


def _evaluate(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from robust.data import load_dataset
    from robust.evaluate import evaluate

    device = pick_device(args.device)
    model, config = _load_any(args.checkpoint, device)
    data = load_dataset(config.data if args.dataset is None else args.dataset, args.data)
    specs = [parse_attack(text) for text in args.attack]
    specs = [
        (name, {"seed": args.seed, **budget} if "seed" not in budget else budget) for name, budget in specs
    ]
    from robust.attacks import ATTACKS

    specs = [
        (name, budget if _takes_seed(ATTACKS.get(name)) else {k: v for k, v in budget.items() if k != "seed"})
        for name, budget in specs
    ]
    from dataclasses import replace

    data = replace(data, x_test=data.x_test.to(device), y_test=data.y_test.to(device))
    table = evaluate(model, data, specs, limit=args.limit, name="evaluate", verify=args.verify)
    print(table.to_markdown())
    table.save(args.out)
    return 0


def _takes_seed(cls: object) -> bool:
    import inspect

    return cls is not None and "seed" in inspect.signature(cls.__init__).parameters


def _add_data_options(parser: argparse.ArgumentParser, names: Sequence[str], default: str | None) -> None:
    shown = default or "the data set the model was trained on"
    parser.add_argument("--dataset", choices=names, default=default, help=f"data set (default: {shown})")
    parser.add_argument("--data", type=Path, default=None, help="folder with the MNIST / CIFAR-10 files")


def main(argv: Sequence[str] | None = None) -> int:
    from robust.config import ModelConfig, TrainConfig
    from robust.data import DATASETS
    from robust.defenses.config import DefenseConfig

    parser, commands = package_cli("robust", DESCRIPTION)
    listing = commands.add_parser("attacks", help="list the registered attacks and their default budgets")
    listing.set_defaults(handler=_attacks)

    train = commands.add_parser("train", help="train a reference classifier (resumable checkpoint)")
    _add_data_options(train, DATASETS, default="mnist5000")
    add_config_arguments(train, ModelConfig, include=["architecture"])
    train.add_argument(
        "--widths", type=positive_int, nargs="+", default=[], help="hidden widths (default: the paper's)"
    )
    add_config_arguments(train, TrainConfig, exclude=["model", "data"])
    train.add_argument("--checkpoint", type=Path, required=True, help="file to write / resume (.safetensors)")
    add_device_option(train, "cpu")
    train.set_defaults(handler=_train)

    ev = commands.add_parser("evaluate", help="clean and adversarial accuracy of a trained model")
    ev.add_argument("checkpoint", type=existing_file, help="a checkpoint written by `robust train`")
    ev.add_argument(
        "--attack",
        action="append",
        required=True,
        metavar="NAME[:k=v,...]",
        help="attack and budget, e.g. pgd:eps=0.3,alpha=0.01,steps=40 (repeatable; see `robust attacks`)",
    )
    _add_data_options(ev, DATASETS, default=None)
    ev.add_argument("--limit", type=positive_int, default=None, help="first N test images only")
    ev.add_argument(
        "--verify",
        action="store_true",
        help="add IBP-verified accuracy to the L-inf rows (Sequential models)",
    )
    add_seed_option(ev)
    add_device_option(ev, "cpu")
    add_out_option(ev, "runs", what="the result table evaluate.json / evaluate.md")
    ev.set_defaults(handler=_evaluate)

    defend = commands.add_parser(
        "defend",
        help="train a classifier with a training defense (PGD-AT, ALP, universal AT, fictitious play, IBP, cost-sensitive IBP)",
    )
    _add_data_options(defend, DATASETS, default="mnist5000")
    add_config_arguments(defend, ModelConfig, include=["architecture"])
    defend.add_argument(
        "--widths", type=positive_int, nargs="+", default=[], help="hidden widths (default: the paper's)"
    )
    add_config_arguments(defend, TrainConfig, exclude=["model", "data"])
    add_config_arguments(defend, DefenseConfig, exclude=["train"])
    defend.add_argument(
        "--cost-preset",
        choices=("overall", "odd-seeds", "distance"),
        default=None,
        help="recipe ibp-cost: a named cost matrix instead of --cost-matrix's k*k numbers",
    )
    defend.add_argument(
        "--checkpoint", type=Path, required=True, help="file to write / resume (.safetensors)"
    )
    add_device_option(defend, "cpu")
    defend.set_defaults(handler=_defend)

    add_reproduce_command(commands, "robust")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
