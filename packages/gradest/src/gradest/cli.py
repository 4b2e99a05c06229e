"""``gradest`` command line: list estimators, measure their variance, train a task, reproduce the paper.

Built on the workspace's CLI contract (`core.cli`): validated ``--seed``/``--device``/``--threads``, ``--out``
always a folder, option defaults read from the config dataclasses (`gradest.config`), every bad input one
line on stderr and exit code 2. Nothing here imports torch until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    dispatch,
    output_folder,
    package_cli,
    positive_int,
)
from core.reproduce import add_reproduce_command
from gradest.config import ToyConfig, TrainConfig

DESCRIPTION = (
    "Gradient estimators for discrete expectations: REINFORCE with baselines, Gumbel-softmax, "
    "REBAR/RELAX and Rao-Blackwellized top-k (Liu et al., ICML 2019)."
)

CHECKPOINT_NAME = "checkpoint.safetensors"
"""The file `gradest fit` keeps in its ``--out`` folder (resumed from when present)."""


def k_value(text: str) -> int | str:
    """An argparse ``type=`` for ``--k``: ``auto`` or an integer >= 0."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 'auto' or an integer >= 0, got {value}")
    return value


def _estimators(args: argparse.Namespace) -> int:
    from gradest.registry import ESTIMATORS

    for name in ESTIMATORS:
        print(name)
    return 0


def _variance(args: argparse.Namespace) -> int:
    from core.results import ResultTable
    from gradest.registry import make_estimator
    from gradest.toy import toy_gradient_variance, toy_problem

    config = config_from_args(ToyConfig, args)
    options = {} if args.k is None else {"k": args.k}
    for name in args.estimator:  # validates every name and option before any work
        make_estimator(name, **(options if name.startswith("rb-") else {}))
    logits, objective = toy_problem(config)
    table = ResultTable(
        "variance",
        title=f"Toy gradient variance, K = {config.num_categories}, N = {args.num_samples}",
        notes=(
            f"{args.repeats} estimates at the initial logits, each estimator run as in training (its baseline "
            "or control variate evolving over calls, after 100 warm-up calls); exact_variance: by enumeration at "
            "the final state (REINFORCE family)."
        ),
        data=f"simulated: the toy quadratic (K = {config.num_categories}, initial logit {config.initial_logit})",
    )
    for name in args.estimator:
        stats = toy_gradient_variance(
            name,
            args.num_samples,
            logits,
            objective,
            args.repeats,
            seed=args.seed,
            **(options if name.startswith("rb-") else {}),
        )
        table.add(estimator=name, **stats)
    print(table.to_markdown())
    if args.out is not None:
        print(f"written: {table.save(args.out)}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from core.results import ResultTable
    from gradest.registry import make_estimator
    from gradest.tasks import AttentionTask, DigitVAETask
    from gradest.train import fit

    config = config_from_args(TrainConfig, args, k=args.k)
    make_estimator(config.estimator, **({"k": config.k} if config.estimator.startswith("rb-") else {}))
    device = pick_device(args.device)
    task = DigitVAETask() if args.task == "vae" else AttentionTask(seed=config.seed)
    _, history = fit(task, config, checkpoint=args.out / CHECKPOINT_NAME, device=device)
    table = ResultTable(
        f"fit_{args.task}",
        rows=history,
        title=f"{args.task} with {config.estimator}",
        data="sklearn.datasets.load_digits (UCI optical digits), binarised at 8/16",
    )
    print(table.to_markdown())
    print(f"written: {table.save(args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``gradest`` parser with its sub-commands (each has a ``handler``)."""
    parser, commands = package_cli("gradest", DESCRIPTION)
    listing = commands.add_parser("estimators", help="list the registered estimator names")
    listing.set_defaults(handler=_estimators)

    variance = commands.add_parser(
        "variance", help="gradient variance and bias of estimators on the toy problem"
    )
    variance.add_argument("estimator", nargs="+", help="estimator names (see `gradest estimators`)")
    variance.add_argument("--num-samples", type=positive_int, default=3, help="draws per row (default: 3)")
    variance.add_argument(
        "--repeats", type=positive_int, default=10000, help="estimates drawn (default: 10000)"
    )
    variance.add_argument(
        "--k", type=k_value, default=None, help="k of the rb- estimators (default: each estimator's own)"
    )
    add_config_arguments(variance, ToyConfig, include=["num_categories", "initial_logit"])
    add_seed_option(variance)
    add_threads_option(variance)
    variance.add_argument(
        "--out", type=output_folder, default=None, help="also save the table in this folder"
    )
    variance.set_defaults(handler=_variance)

    train = commands.add_parser(
        "fit",
        help="train the digits VAE or the attention task with one estimator (resumable)",
        description=(
            f"Train and checkpoint to OUT/{CHECKPOINT_NAME}; run again with the same options to resume, "
            "or with a larger --steps to extend a finished run."
        ),
    )
    train.add_argument("task", choices=["vae", "attention"])
    add_config_arguments(
        train,
        TrainConfig,
        include=[
            "estimator",
            "num_samples",
            "steps",
            "batch_size",
            "learning_rate",
            "eval_every",
            "checkpoint_every",
        ],
    )
    train.add_argument(
        "--k",
        type=k_value,
        default=TrainConfig().k,
        help=f"k of the rb- estimators (default: {TrainConfig().k})",
    )
    add_seed_option(train, default=TrainConfig().seed)
    add_device_option(train)
    add_threads_option(train)
    add_out_option(
        train, "runs/gradest-fit", what=f"the checkpoint ({CHECKPOINT_NAME}) and the history table"
    )
    train.set_defaults(handler=_fit)

    add_reproduce_command(commands, "gradest")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gradest`` with `argv` (default: the command line); the exit code (2 for bad input)."""
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "k_value", "main"]
