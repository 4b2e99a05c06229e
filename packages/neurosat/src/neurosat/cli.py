"""``neurosat`` command line: generate | fit | evaluate | solve | reproduce.

Every option follows the workspace's CLI contract (`core.cli`): validated ``--seed``, ``--device``,
``--threads``, ``--out`` always a folder, defaults read from the config dataclasses, and every bad
input ends in one line on stderr with exit code 2. Nothing heavy is imported until a command runs.

``neurosat solve`` uses the SAT-competition exit codes: 10 when it prints a verified satisfying
assignment, 0 when it found none ("s UNKNOWN"; NeuroSAT never proves UNSAT, so 20 is never used).
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
    add_threads_option,
    config_from_args,
    dispatch,
    package_cli,
    positive_int,
)
from core.reproduce import add_reproduce_command
from neurosat.config import NeuroSATConfig, TrainConfig

DESCRIPTION = "NeuroSAT: SR(n) generation, literal-clause message passing trained on SAT/UNSAT bits only, assignment decoding."

# SAT-competition exit codes of `neurosat solve`.
EXIT_SAT, EXIT_UNSAT, EXIT_UNKNOWN = 10, 20, 0

MODEL_FIELDS = ["d", "rounds", "mlp_layers", "layer_norm"]
TRAIN_FIELDS = ["epochs", "learning_rate", "l2_weight", "clip_norm", "max_nodes", "pair_batches"]


def _generate(args: argparse.Namespace) -> int:
    from neurosat.dataset import save_problems
    from neurosat.sr import generate_sr

    problems = generate_sr(args.pairs, args.min_vars, args.max_vars, seed=args.seed, n_jobs=args.jobs)
    index = save_problems(problems, args.out)
    print(f"wrote {len(problems)} problems ({args.pairs} SAT/UNSAT pairs) and {index}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    import json

    import torch

    from core.checkpoint import load_state_into
    from core.device import pick_device
    from core.files import atomic_write
    from neurosat.dataset import load_problems
    from neurosat.distributed import process_group
    from neurosat.model import NeuroSAT
    from neurosat.train import fit

    problems = load_problems(args.data)
    model_config = config_from_args(NeuroSATConfig, args)
    # --rounds is the model's; training runs with it (TrainConfig.rounds set explicitly).
    config = config_from_args(TrainConfig, args, seed=args.seed, rounds=model_config.rounds)
    model = NeuroSAT(model_config, generator=torch.Generator().manual_seed(args.seed))
    if args.init is not None:  # start from trained weights (a curriculum stage); shapes must match
        load_state_into(model, NeuroSAT.load(args.init).state_dict(), source=args.init)
    out = Path(args.out)
    with process_group(pick_device(args.device)) as device:
        history = fit(
            model,
            problems,
            config,
            checkpoint=out / "checkpoint.safetensors",
            checkpoint_every=args.checkpoint_every,
            device=device,
        )
        if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
            return 0  # rank 0 writes the files
    path = model.save(out / "model.safetensors")
    text = json.dumps({"loss": history.loss, "accuracy": history.accuracy, "step_loss": history.step_loss})
    atomic_write(out / "history.json", lambda tmp: tmp.write_text(text))
    print(
        f"trained on {len(problems)} problems: loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.3f}; "
        f"saved {path} (resumable checkpoint: {out / 'checkpoint.safetensors'})"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from neurosat.dataset import load_problems
    from neurosat.evaluation import evaluation_report
    from neurosat.model import NeuroSAT

    model = NeuroSAT.load(args.model)
    problems = load_problems(args.data, labels=args.labels)
    rounds = args.rounds or [model.config.rounds]
    for line in evaluation_report(model, problems, rounds, device=pick_device(args.device)):
        print(f"{args.data}: {line}")
    return 0


def _solve(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from neurosat.batch_solve import solve_folder
    from neurosat.cnf import read_dimacs, to_solution
    from neurosat.evaluation import solve
    from neurosat.model import NeuroSAT

    device = pick_device(args.device)
    model = NeuroSAT.load(args.model)
    if args.cnf.is_dir():
        counts = solve_folder(model, args.cnf, args.out, rounds=args.rounds, device=device)
        print(f"{args.cnf}: {counts['sat']} of {counts['files']} decoded (SAT); results in {args.out}")
        return 0
    problem = read_dimacs(args.cnf)
    assignment = solve(problem, model, rounds=args.rounds, device=device)
    print(to_solution(assignment), end="")
    return EXIT_UNKNOWN if assignment is None else EXIT_SAT


def _input_path(text: str) -> Path:
    """An existing file or folder (a missing path is refused by name at parse time)."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"not found: {text!r}")
    return path


def _model_file(text: str) -> Path:
    from core.cli import existing_file

    return existing_file(text)


def _folder(text: str) -> Path:
    path = Path(text)
    if path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, expected a folder of DIMACS files")
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"folder not found: {text!r}")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("neurosat", DESCRIPTION)

    gen = commands.add_parser(
        "generate", help="write SR(U(min, max)) SAT/UNSAT pairs as DIMACS files + index"
    )
    gen.add_argument("--pairs", type=positive_int, required=True)
    gen.add_argument("--min-vars", type=positive_int, default=10)
    gen.add_argument("--max-vars", type=positive_int, default=40)
    add_seed_option(gen)
    gen.add_argument("--jobs", type=int, default=1, help="joblib workers (-1: all cores)")
    add_out_option(gen, "sr-data", "the DIMACS files and index.json")
    gen.set_defaults(handler=_generate)

    fit_cmd = commands.add_parser(
        "fit",
        help="train NeuroSAT on a labelled problem folder (resumes from --out/checkpoint.safetensors)",
    )
    fit_cmd.add_argument("data", type=_folder, help="folder written by 'neurosat generate'")
    add_config_arguments(fit_cmd, NeuroSATConfig, include=MODEL_FIELDS)

    add_config_arguments(fit_cmd, TrainConfig, include=TRAIN_FIELDS)
    fit_cmd.add_argument(
        "--init",
        type=_model_file,
        default=None,
        help="start from the weights of this model file (e.g. a curriculum stage on smaller problems);"
        " ignored when --out already holds a checkpoint to resume",
    )
    fit_cmd.add_argument(
        "--checkpoint-every", type=positive_int, default=None, help="also checkpoint every N steps"
    )
    add_seed_option(fit_cmd)
    add_device_option(fit_cmd)
    add_threads_option(fit_cmd)
    add_out_option(fit_cmd, "neurosat-run", "checkpoint.safetensors, model.safetensors, history.json")
    fit_cmd.set_defaults(handler=_fit)

    ev = commands.add_parser(
        "evaluate",
        help="predicted-SAT share, accuracy/AUC (when labelled) and decoded share on a folder of CNFs",
    )
    ev.add_argument("model", type=_model_file)
    ev.add_argument("data", type=_folder)
    ev.add_argument(
        "--rounds",
        type=positive_int,
        nargs="+",
        default=None,
        help="round counts to report, one pass to the largest (default: the model's training rounds)",
    )
    ev.add_argument(
        "--labels", type=_model_file, default=None, help="CSV with columns file,label (sat|unsat)"
    )
    add_device_option(ev)
    add_threads_option(ev)
    ev.set_defaults(handler=_evaluate)

    sv = commands.add_parser(
        "solve",
        help="decode an assignment for a DIMACS file (exit 10 found, 0 unknown) or every file of a folder",
    )
    sv.add_argument("model", type=_model_file)
    sv.add_argument("cnf", type=_input_path, help="a DIMACS file, or a folder of them (batch mode)")
    sv.add_argument("--rounds", type=positive_int, default=None)
    add_out_option(sv, "neurosat-solutions", "one <name>.sol result per input file (folder input only)")
    add_seed_option(sv)
    add_device_option(sv)
    add_threads_option(sv)
    sv.set_defaults(handler=_solve)

    add_reproduce_command(commands, "neurosat")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
