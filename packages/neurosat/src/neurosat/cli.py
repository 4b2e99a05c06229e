"""``neurosat`` command line: generate | fit | evaluate | solve | reproduce."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from core.cli import dispatch, package_cli, positive_int
from core.reproduce import add_reproduce_command

DESCRIPTION = "NeuroSAT: SR(n) generation, literal-clause message passing trained on SAT/UNSAT bits only, assignment decoding."


def _generate(args: argparse.Namespace) -> int:
    from neurosat.dataset import save_problems
    from neurosat.sr import generate_sr

    problems = generate_sr(args.pairs, args.min_vars, args.max_vars, seed=args.seed, n_jobs=args.jobs)
    index = save_problems(problems, args.out)
    print(f"wrote {len(problems)} problems ({args.pairs} SAT/UNSAT pairs) and {index}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    import torch

    from core.device import pick_device
    from neurosat.dataset import load_problems
    from neurosat.model import NeuroSAT, NeuroSATConfig
    from neurosat.train import TrainConfig, fit

    problems = load_problems(args.data)
    torch.manual_seed(args.seed)
    model = NeuroSAT(NeuroSATConfig(d=args.d, rounds=args.rounds))
    config = TrainConfig(
        epochs=args.epochs,
        learning_rate=args.lr,
        max_nodes=args.max_nodes,
        seed=args.seed,
        pair_batches=not args.no_pair_batches,
    )
    out = Path(args.out)
    history = fit(
        model,
        problems,
        config,
        checkpoint=out.with_suffix(".ckpt.safetensors"),
        device=pick_device(args.device),
    )
    model.save(out)
    print(
        f"trained on {len(problems)} problems: loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.3f}; saved {out}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from neurosat.dataset import load_problems
    from neurosat.evaluation import round_curves
    from neurosat.model import NeuroSAT

    model = NeuroSAT.load(args.model)
    problems = load_problems(args.data)
    rounds = args.rounds or model.config.rounds
    curves = round_curves(model, problems, rounds, device=pick_device(args.device))
    print(
        f"{len(problems)} problems, {rounds} rounds: accuracy {curves.accuracy[-1]:.3f}, "
        f"SAT formulas decoded {curves.decoded_by[-1]:.3f}"
    )
    return 0


def _solve(args: argparse.Namespace) -> int:
    from neurosat.cnf import read_dimacs
    from neurosat.evaluation import solve
    from neurosat.model import NeuroSAT

    model = NeuroSAT.load(args.model)
    problem = read_dimacs(args.cnf)
    assignment = solve(problem, model, rounds=args.rounds)
    if assignment is None:
        print("s UNKNOWN")
        return 20
    print("s SATISFIABLE")
    print("v " + " ".join(map(str, assignment)) + " 0")
    return 10


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("neurosat", DESCRIPTION)

    gen = commands.add_parser(
        "generate", help="write SR(U(min, max)) SAT/UNSAT pairs as DIMACS files + index"
    )
    gen.add_argument("--pairs", type=positive_int, required=True)
    gen.add_argument("--min-vars", type=positive_int, default=10)
    gen.add_argument("--max-vars", type=positive_int, default=40)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--jobs", type=int, default=1, help="joblib workers (-1: all cores)")
    gen.add_argument("--out", type=Path, required=True, help="output folder")
    gen.set_defaults(handler=_generate)

    fit_cmd = commands.add_parser("fit", help="train NeuroSAT on a labelled problem folder")
    fit_cmd.add_argument("data", type=Path, help="folder written by 'neurosat generate'")
    fit_cmd.add_argument("--out", type=Path, default=Path("neurosat.safetensors"))
    fit_cmd.add_argument("--d", type=positive_int, default=128)
    fit_cmd.add_argument("--rounds", type=positive_int, default=26)
    fit_cmd.add_argument("--epochs", type=positive_int, default=10)
    fit_cmd.add_argument("--lr", type=float, default=2e-5)
    fit_cmd.add_argument("--max-nodes", type=positive_int, default=12_000)
    fit_cmd.add_argument("--seed", type=int, default=0)
    fit_cmd.add_argument(
        "--no-pair-batches",
        action="store_true",
        help="shuffle single problems (needed when the folder does not hold SAT/UNSAT twin pairs in order)",
    )
    fit_cmd.add_argument("--device", default="auto")
    fit_cmd.set_defaults(handler=_fit)

    ev = commands.add_parser("evaluate", help="accuracy and decoded share on a labelled problem folder")
    ev.add_argument("model", type=Path)
    ev.add_argument("data", type=Path)
    ev.add_argument("--rounds", type=positive_int, default=None, help="default: the model's training rounds")
    ev.add_argument("--device", default="auto")
    ev.set_defaults(handler=_evaluate)

    sv = commands.add_parser(
        "solve", help="decode an assignment for a DIMACS file (exit 10 found, 20 unknown)"
    )
    sv.add_argument("model", type=Path)
    sv.add_argument("cnf", type=Path)
    sv.add_argument("--rounds", type=positive_int, default=None)
    sv.set_defaults(handler=_solve)

    add_reproduce_command(commands, "neurosat")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
