"""``phylo-marglik`` command line: ``estimate`` (one or all estimators on topologies of your own
alignment), ``study`` (the study's scoring on an alignment + credible set), ``data fetch`` (the
study's files, checksum-verified, into the cache) and ``reproduce``.

Options follow the workspace contract (`core.cli`): validated ``--seed``, ``--device``,
``--threads``, ``--out`` (a folder), ``--scale smoke|full`` (the "quick" or the study's estimator
budget); defaults of ``--prior-rate`` and ``--replicates`` are read from `ExponentialPrior` and
`StudyConfig`. Nothing heavy is imported until a command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_scale_option,
    add_seed_option,
    add_threads_option,
    config_from_args,
    dispatch,
    existing_file,
    output_folder,
    package_cli,
)
from core.errors import InputError
from core.reproduce import add_reproduce_command

DESCRIPTION = (
    "Marginal likelihood of a phylogenetic tree topology with branch lengths integrated out: "
    "the study's 19 estimators side by side."
)
BUDGET_OF_SCALE = {"smoke": "quick", "full": "study"}


def _methods(text: str) -> tuple[str, ...]:
    from phylo_marglik.estimators import estimator_names

    names = estimator_names()
    if text == "all":
        return names
    chosen = tuple(m.strip().lower() for m in text.split(",") if m.strip())
    if not chosen:
        raise InputError(
            "no estimator named", item=repr(text), expected=f"one of {', '.join(names)} or 'all'"
        )
    for m in chosen:
        if m not in names:
            raise InputError("unknown estimator", item=m, expected=f"one of {', '.join(names)} or 'all'")
    return chosen


def _budget(args: argparse.Namespace):  # -> EstimatorConfig
    from phylo_marglik.estimators import EstimatorConfig
    from phylo_marglik.reproduce import check_device

    check_device(args.device)
    return EstimatorConfig.preset(BUDGET_OF_SCALE[args.scale])


def _estimate(args: argparse.Namespace) -> int:
    from core.results import ResultTable
    from phylo_marglik.data import load_topology_set
    from phylo_marglik.estimators import marginal_likelihood
    from phylo_marglik.posterior import BranchLengthPosterior, ExponentialPrior

    methods = _methods(args.methods)
    config = _budget(args)
    prior = config_from_args(ExponentialPrior, args, prefix="prior_")
    case = load_topology_set(args.alignment, args.trees)
    table = ResultTable(
        "estimates", title=f"log marginal likelihoods: {Path(args.alignment).name}", data=case.data
    )
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
                converged=est.converged,
                evaluations=est.likelihood_evaluations,
                seconds=est.seconds,
                problems="; ".join(est.problems + est.warnings),
            )
    print(table.to_markdown())
    if args.out is not None:
        print(f"saved {table.save(args.out)}")
    return 0


def _study(args: argparse.Namespace) -> int:
    from phylo_marglik.data import load_topology_set
    from phylo_marglik.reproduce import tables_for
    from phylo_marglik.study import StudyConfig, run_study

    methods = _methods(args.methods)
    config = config_from_args(StudyConfig, args, estimators=methods, estimator=_budget(args))
    case = load_topology_set(args.alignment, args.trees)
    records = run_study(case, config, seed=args.seed)
    for table in tables_for(case, records, config):
        print(table.to_markdown())
        print()
        if args.out is not None:
            table.save(args.out)
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from phylo_marglik.study_data import BASE_URL, STUDY_COMMIT, STUDY_REPOSITORY, fetch_study_data

    if args.url == BASE_URL:
        print(f"fetching the study's data from {STUDY_REPOSITORY} at {STUDY_COMMIT[:7]}")
    folder = fetch_study_data(args.dest, base_url=args.url, report=print)
    print(f"study data ready in {folder}")
    return 0


def _add_case_options(sub: argparse.ArgumentParser, default_methods: str) -> None:
    sub.add_argument(
        "--alignment", required=True, type=existing_file, help="NEXUS, FASTA or PHYLIP DNA alignment"
    )
    sub.add_argument(
        "--trees",
        required=True,
        type=existing_file,
        help="Newick trees, one a line ('<prob>\\t<newick>' allowed), or a NEXUS TREES block",
    )
    sub.add_argument(
        "--methods", default=default_methods, help=f"comma list or 'all' (default: {default_methods})"
    )
    add_scale_option(sub)
    add_seed_option(sub)
    add_device_option(sub)
    add_threads_option(sub)
    sub.add_argument(
        "--out",
        type=output_folder,
        default=None,
        help="folder for the JSON/markdown tables (default: print only)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``phylo-marglik`` parser (no heavy import: the config types are read lazily)."""
    from phylo_marglik.configs import ExponentialPrior, StudyConfig
    from phylo_marglik.study_data import BASE_URL

    parser, commands = package_cli("phylo-marglik", DESCRIPTION)
    sub = commands.add_parser("estimate", help="estimate log p(D | topology) for each tree in --trees")
    _add_case_options(sub, "gss")
    add_config_arguments(
        sub, ExponentialPrior, prefix="prior_", help={"rate": "exponential branch-length prior rate"}
    )
    sub.set_defaults(handler=_estimate)

    sub = commands.add_parser(
        "study",
        help="the study's protocol: estimates renormalised and scored against the trees' probabilities",
    )
    _add_case_options(sub, "all")
    add_config_arguments(
        sub, StudyConfig, include=["replicates"], help={"replicates": "replicates per estimator and topology"}
    )
    sub.set_defaults(handler=_study)

    data = commands.add_parser("data", help="the study's data sets (DS1-DS5, DS3s)")
    actions = data.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    fetch = actions.add_parser(
        "fetch", help="download the study's files, checksum-verified, into the cache (or --dest)"
    )
    fetch.add_argument("--dest", type=output_folder, default=None, help="target folder (default: the cache)")
    fetch.add_argument(
        "--url", default=BASE_URL, help="base URL of the files (default: the study's repository)"
    )
    fetch.set_defaults(handler=_fetch)

    add_reproduce_command(commands, "phylo-marglik")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
