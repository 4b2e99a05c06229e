"""``gradest`` command line: list estimators, measure their variance, train a task, reproduce the paper."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.cli import dispatch, package_cli, positive_int
from core.device import pick_device
from core.reproduce import add_reproduce_command
from core.results import ResultTable

DESCRIPTION = (
    "Gradient estimators for discrete expectations: REINFORCE with baselines, Gumbel-softmax, "
    "REBAR/RELAX and Rao-Blackwellized top-k (Liu et al., ICML 2019)."
)


def _estimators(args: argparse.Namespace) -> int:
    from gradest.registry import ESTIMATORS

    for name in ESTIMATORS:
        print(name)
    return 0


def _variance(args: argparse.Namespace) -> int:
    import torch

    from gradest.registry import make_estimator
    from gradest.toy import ToyConfig, toy_gradient_variance, toy_problem

    config = ToyConfig(num_categories=args.categories, initial_logit=args.initial_logit)
    logits, objective = toy_problem(config)
    exact_value = float(
        torch.softmax(logits, -1) @ objective(torch.eye(config.num_categories).unsqueeze(1)).reshape(-1)
    )
    table = ResultTable(
        "variance", title=f"Toy gradient variance, K = {args.categories}, N = {args.num_samples}"
    )
    for name in args.estimator:
        make_estimator(name)  # validates the name before any work
        stats = toy_gradient_variance(
            name, args.num_samples, logits, objective, args.repeats, seed=args.seed, baseline=exact_value
        )
        table.add(estimator=name, **stats)
    print(table.to_markdown())
    return 0


def _fit(args: argparse.Namespace) -> int:
    from gradest.tasks import AttentionTask, DigitVAETask
    from gradest.train import TrainConfig, fit

    task = DigitVAETask() if args.task == "vae" else AttentionTask(seed=args.seed)
    config = TrainConfig(
        estimator=args.estimator,
        num_samples=args.num_samples,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        eval_every=args.eval_every,
        seed=args.seed,
    )
    from gradest.registry import make_estimator

    make_estimator(args.estimator)
    _, history = fit(task, config, checkpoint=args.checkpoint, device=pick_device(args.device))
    table = ResultTable(f"fit_{args.task}", rows=history, title=f"{args.task} with {args.estimator}")
    print(table.to_markdown())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("gradest", DESCRIPTION)
    listing = commands.add_parser("estimators", help="list the registered estimator names")
    listing.set_defaults(handler=_estimators)

    variance = commands.add_parser(
        "variance", help="gradient variance and bias of estimators on the toy problem"
    )
    variance.add_argument("estimator", nargs="+", help="estimator names (see `gradest estimators`)")
    variance.add_argument("--num-samples", type=positive_int, default=3)
    variance.add_argument("--categories", type=positive_int, default=10)
    variance.add_argument("--initial-logit", type=float, default=4.0)
    variance.add_argument("--repeats", type=positive_int, default=10000)
    variance.add_argument("--seed", type=int, default=0)
    variance.set_defaults(handler=_variance)

    train = commands.add_parser("fit", help="train the digits VAE or the attention task with one estimator")
    train.add_argument("task", choices=["vae", "attention"])
    train.add_argument("--estimator", default="rb-reinforce-ma")
    train.add_argument("--num-samples", type=positive_int, default=3)
    train.add_argument("--steps", type=positive_int, default=1000)
    train.add_argument("--batch-size", type=positive_int, default=64)
    train.add_argument("--learning-rate", type=float, default=3e-3)
    train.add_argument("--eval-every", type=positive_int, default=100)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto")
    train.add_argument("--checkpoint", type=Path, default=None, help="resume from / save to this file")
    train.set_defaults(handler=_fit)

    add_reproduce_command(commands, "gradest")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main"]
