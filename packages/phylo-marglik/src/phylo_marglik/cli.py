"""``phylo-marglik`` command line: ``estimate`` (one or all estimators on topologies of your own
alignment), ``study`` (the study's scoring on an alignment + credible set) and ``reproduce``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from core.cli import dispatch, package_cli
from core.errors import InputError
from core.reproduce import add_reproduce_command
from core.results import ResultTable
from phylo_marglik.data import load_topology_set
from phylo_marglik.estimators import estimator_names, marginal_likelihood
from phylo_marglik.posterior import BranchLengthPosterior, ExponentialPrior
from phylo_marglik.reproduce import smoke_config, tables_for
from phylo_marglik.study import StudyConfig, run_study

DESCRIPTION = (
    "Marginal likelihood of a phylogenetic tree topology with branch lengths integrated out: "
    "the study's 19 estimators side by side."
)


def _methods(text: str) -> tuple[str, ...]:
    names = estimator_names()
    if text == "all":
        return names
    chosen = tuple(m.strip().lower() for m in text.split(",") if m.strip())
    for m in chosen:
        if m not in names:
            raise InputError("unknown estimator", item=m, expected=f"one of {', '.join(names)} or 'all'")
    return chosen


def _estimate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    case = load_topology_set(args.alignment, args.trees)
    methods = _methods(args.methods)
    config = smoke_config().estimator if args.budget == "smoke" else StudyConfig().estimator
    table = ResultTable("estimates", title=f"log marginal likelihoods: {Path(args.alignment).name}")
    prior = ExponentialPrior(args.prior_rate)
    for tree, topology in enumerate(case.topologies):
        posterior = BranchLengthPosterior(topology, case.patterns, prior=prior)
        cache: dict = {}
        for method in methods:
            est = marginal_likelihood(posterior, method, config=config, seed=args.seed, cache=cache)
            table.add(
                tree=tree,
                estimator=method,
                log_ml=est.log_marginal_likelihood,
                stderr=est.stderr,
                evaluations=est.likelihood_evaluations,
                seconds=est.seconds,
            )
    print(table.to_markdown())
    if args.out is not None:
        print(f"saved {table.save(args.out)}")
    return 0


def _study(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    case = load_topology_set(args.alignment, args.trees)
    base = smoke_config() if args.budget == "smoke" else StudyConfig()
    config = StudyConfig(
        estimators=_methods(args.methods), replicates=args.replicates, estimator=base.estimator
    )
    records = run_study(case, config, seed=args.seed)
    for table in tables_for(case, records, config):
        print(table.to_markdown())
        print()
        if args.out is not None:
            table.save(args.out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("phylo-marglik", DESCRIPTION)
    for name, handler, text in (
        ("estimate", _estimate, "estimate log p(D | topology) for each tree in --trees"),
        (
            "study",
            _study,
            "the study's protocol: estimates renormalised and scored against the trees' probabilities",
        ),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--alignment", required=True, help="NEXUS, FASTA or PHYLIP DNA alignment")
        sub.add_argument(
            "--trees", required=True, help="Newick trees, one a line ('<prob>\\t<newick>' allowed)"
        )
        sub.add_argument(
            "--methods", default="gss" if name == "estimate" else "all", help="comma list or 'all'"
        )
        sub.add_argument(
            "--budget", choices=("smoke", "study"), default="smoke", help="reduced or the study's budgets"
        )
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
        sub.add_argument("--out", type=Path, default=None, help="folder for the JSON/markdown tables")
        if name == "estimate":
            sub.add_argument(
                "--prior-rate", type=float, default=10.0, help="exponential branch-length prior rate"
            )
        else:
            sub.add_argument("--replicates", type=int, default=2)
        sub.set_defaults(handler=handler)
    add_reproduce_command(commands, "phylo-marglik")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
