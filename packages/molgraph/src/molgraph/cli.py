"""``molgraph`` command line: data, decompose, vocab, fit, encode, reconstruct, sample, reproduce."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from core.cli import dispatch, package_cli, positive_int
from core.device import pick_device
from core.errors import InputError
from core.reproduce import add_reproduce_command
from core.seeding import seed_everything

DESCRIPTION = (
    "Junction Tree VAE for molecular graphs: tree decomposition, encoders, a decoder that only "
    "emits valid molecules, latent optimisation."
)


def _data(args: argparse.Namespace) -> int:
    from molgraph.data import fetch_moses

    paths = fetch_moses(args.dest, wheel=args.wheel)
    for split, path in paths.items():
        print(f"{split}: {path}")
    return 0


def _decompose(args: argparse.Namespace) -> int:
    from molgraph.tree import JunctionTree

    for smiles in args.smiles:
        tree = JunctionTree(smiles)
        print(
            json.dumps(
                {"smiles": tree.smiles, "clusters": [n.smiles for n in tree.nodes], "edges": tree.edges}
            )
        )
    return 0


def _vocab(args: argparse.Namespace) -> int:
    from molgraph.data import load_smiles
    from molgraph.dataset import prepare

    prepared = prepare(load_smiles(args.smiles_file, limit=args.limit), desc="vocab", workers=args.workers)
    prepared.vocab.save(args.output)
    print(f"{len(prepared.vocab)} clusters written to {args.output}; {prepared.report()}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from molgraph.data import load_smiles
    from molgraph.dataset import prepare
    from molgraph.model import JTVAE, JTVAEConfig
    from molgraph.train import TrainConfig, train
    from molgraph.vocab import Vocab

    seed_everything(args.seed)
    vocab = Vocab.load(args.vocab) if args.vocab else None
    prepared = prepare(
        load_smiles(args.smiles_file, limit=args.limit), vocab, desc="fit", workers=args.workers
    )
    print(prepared.report())
    config = _config_from_args(JTVAEConfig, args)
    model = JTVAE(prepared.vocab, config).to(pick_device(args.device))
    schedule = _config_from_args(TrainConfig, args)
    out = Path(args.out)
    history = train(model, prepared.samples, schedule, checkpoint=out / "training.safetensors")
    model.save(out / "model.safetensors", extra={"history": history.rows})
    print(f"model written to {out / 'model.safetensors'}; last epoch: {history.rows[-1]}")
    return 0


def _config_from_args(cls, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """``cls(...)`` from the parsed options named like its fields (the others keep their defaults)."""
    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


def _load(path: str, device: str):  # type: ignore[no-untyped-def]
    from molgraph.model import JTVAE

    return JTVAE.load(path, device=pick_device(device))


def _encode(args: argparse.Namespace) -> int:
    model = _load(args.model, args.device)
    for smiles, z in zip(args.smiles, model.encode(args.smiles)):
        print(json.dumps({"smiles": smiles, "z": [round(float(v), 6) for v in z]}))
    return 0


def _reconstruct(args: argparse.Namespace) -> int:
    model = _load(args.model, args.device)
    for smiles, out in zip(args.smiles, model.reconstruct(args.smiles)):
        print(f"{smiles}\t{out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from core.results import ResultTable
    from molgraph.data import load_smiles
    from molgraph.evaluate import prior_quality, reconstruction_accuracy

    model = _load(args.model, args.device)
    test = _first_encodable(load_smiles(args.test), model, args.n_test)
    molecules = [s.smiles for s in test.samples]
    training = load_smiles(args.train, limit=args.train_limit) if args.train else []
    recon = reconstruction_accuracy(
        model, molecules, encodings=args.encodings, decodings=args.decodings, seed=args.seed
    )
    recon_mean = reconstruction_accuracy(model, molecules, mean=True)
    prior = prior_quality(model, args.samples, training, seed=args.seed)
    table = ResultTable(
        "evaluation",
        title=f"JT-VAE {args.model}: reconstruction and prior sampling",
        notes=(
            f"{len(molecules)} test molecules from {args.test} ({test.report()}); "
            f"{args.encodings} x {args.decodings} posterior draws each; {args.samples} prior samples; "
            f"novelty against {len(training)} SMILES of {args.train or 'nothing (not given)'}."
        ),
    )
    table.add(metric="reconstruction (posterior draws)", value=recon)
    table.add(metric="reconstruction (posterior mean)", value=recon_mean)
    for name, value in prior.items():
        table.add(metric=f"prior {name}", value=value)
    print(table.to_markdown())
    if args.out:
        table.save(Path(args.out))
    return 0


def _first_encodable(pool: list[str], model, n: int):  # type: ignore[no-untyped-def]
    """The first `n` molecules of `pool` the model can encode (prepared in slices of what is still missing)."""
    from molgraph.dataset import PreparedSet, prepare

    test = PreparedSet([], model.vocab, Counter())
    start = 0
    while len(test.samples) < n and start < len(pool):
        piece = pool[start : start + n - len(test.samples)]
        part = prepare(piece, model.vocab, desc="test set", candidates=False)
        test.samples += part.samples
        test.dropped += part.dropped
        start += len(piece)
    return test


def _optimize(args: argparse.Namespace) -> int:
    from molgraph.data import load_smiles
    from molgraph.dataset import prepare
    from molgraph.reproduce import optimisation_table

    model = _load(args.model, args.device)
    training = prepare(
        load_smiles(args.train, limit=args.train_limit), model.vocab, desc="training set", candidates=False
    )
    test = _first_encodable(load_smiles(args.test), model, args.n_test)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    table = optimisation_table(
        model,
        [s.smiles for s in training.samples],
        [s.smiles for s in test.samples],
        n_opt=args.n_opt,
        steps=args.steps,
        bo_iterations=args.bo_rounds,
        bo_batch=args.bo_batch,
        seed=args.seed,
        out=out,
        label=args.model,
    )
    print(table.to_markdown())
    if out is not None:
        table.save(out)
    return 0


def _sample(args: argparse.Namespace) -> int:
    if args.n < 1:
        raise InputError("-n must be >= 1", item=args.n)
    model = _load(args.model, args.device)
    for smiles in model.sample(args.n, seed=args.seed, greedy=not args.stochastic):
        print(smiles if smiles is not None else "(no molecule assembled)")
    return 0


def _add_experiment_options(sub: argparse.ArgumentParser, written: str) -> None:
    """Options shared by `evaluate` and `optimize`."""
    sub.add_argument("--train-limit", type=positive_int, default=None, help="first N training SMILES only")
    sub.add_argument("--n-test", type=positive_int, default=1000, help="test molecules used")
    sub.add_argument("--seed", type=int, default=0)
    sub.add_argument("--out", default=None, help=f"folder for {written}")
    sub.add_argument("--device", default="auto")


def build_parser() -> argparse.ArgumentParser:
    parser, commands = package_cli("molgraph", DESCRIPTION)

    data = commands.add_parser("data", help="fetch datasets into the cache")
    data.add_argument("dataset", choices=["moses"], help="moses: the MOSES splits from the molsets wheel")
    data.add_argument("--dest", default=None, help="target folder (default: the molgraph cache)")
    data.add_argument(
        "--wheel", default=None, help="use this downloaded molsets wheel instead of pip download"
    )
    data.set_defaults(handler=_data)

    decompose = commands.add_parser("decompose", help="print clusters and junction-tree edges of SMILES")
    decompose.add_argument("smiles", nargs="+")
    decompose.set_defaults(handler=_decompose)

    vocab = commands.add_parser("vocab", help="build a cluster vocabulary from a SMILES file")
    vocab.add_argument("smiles_file", help="SMILES file, bundled:train or moses:train")
    vocab.add_argument("-o", "--output", default="vocab.json")
    vocab.add_argument("--limit", type=int, default=None, help="read at most this many SMILES")
    vocab.add_argument("--workers", type=positive_int, default=1, help="processes for the decomposition")
    vocab.set_defaults(handler=_vocab)

    fit = commands.add_parser("fit", help="train a JT-VAE on a SMILES file (resumes from --out)")
    fit.add_argument("smiles_file", help="SMILES file, bundled:train or moses:train")
    fit.add_argument(
        "--out", default="runs/molgraph-fit", help="folder for the model and training checkpoint"
    )
    fit.add_argument("--vocab", default=None, help="vocabulary JSON (default: built from the file)")
    fit.add_argument("--limit", type=int, default=None)
    fit.add_argument("--hidden", type=int, default=450)
    fit.add_argument("--latent", type=int, default=56)
    fit.add_argument("--depth-tree", type=int, default=20)
    fit.add_argument("--depth-graph", type=int, default=3)
    fit.add_argument(
        "--max-stereoisomers",
        type=int,
        default=32,
        help="stereoisomers scored after decoding (0: decode without stereo, e.g. for MOSES)",
    )
    fit.add_argument("--epochs", type=int, default=20)
    fit.add_argument("--batch-size", type=int, default=32)
    fit.add_argument("--lr", type=float, default=1e-3)
    fit.add_argument("--lr-decay", type=float, default=0.9, help="learning-rate factor per epoch")
    fit.add_argument("--beta-max", type=float, default=1.0, help="ceiling of the annealed KL weight")
    fit.add_argument("--beta-warmup", type=int, default=40000, help="steps with KL weight 0")
    fit.add_argument(
        "--beta-step", type=float, default=0.002, help="KL weight added every --beta-every steps"
    )
    fit.add_argument("--beta-every", type=positive_int, default=1000)
    fit.add_argument(
        "--workers", type=positive_int, default=1, help="processes for decomposition and candidates"
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--device", default="auto")
    fit.set_defaults(handler=_fit)

    for name, handler, text in (
        ("encode", _encode, "print latent means of SMILES as JSON lines"),
        ("reconstruct", _reconstruct, "encode then decode SMILES"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("model", help="model.safetensors written by `molgraph fit`")
        sub.add_argument("smiles", nargs="+")
        sub.add_argument("--device", default="auto")
        sub.set_defaults(handler=handler)

    evaluate = commands.add_parser(
        "evaluate", help="the paper's reconstruction (encodings x decodings) and prior-sample metrics"
    )
    evaluate.add_argument("model")
    evaluate.add_argument("test", help="SMILES file, bundled:test or moses:test")
    evaluate.add_argument("--train", default=None, help="training SMILES for novelty (file or name)")
    _add_experiment_options(evaluate, "the table as JSON and markdown")
    evaluate.add_argument("--encodings", type=positive_int, default=10)
    evaluate.add_argument("--decodings", type=positive_int, default=10)
    evaluate.add_argument("--samples", type=positive_int, default=1000, help="prior samples")
    evaluate.set_defaults(handler=_evaluate)

    optimize = commands.add_parser(
        "optimize", help="penalised-logP optimisation: constrained gradient ascent and Bayesian optimisation"
    )
    optimize.add_argument("model")
    optimize.add_argument("train", help="molecules the property predictor is fitted on (file or name)")
    optimize.add_argument("test", help="molecules to improve: the --n-test first, of which the --n-opt worst")
    _add_experiment_options(optimize, "the table and the BO plot")
    optimize.add_argument(
        "--n-opt", type=positive_int, default=800, help="lowest-scoring test molecules optimised"
    )
    optimize.add_argument("--steps", type=positive_int, default=80, help="gradient steps (the paper: 80)")
    optimize.add_argument("--bo-rounds", type=positive_int, default=10)
    optimize.add_argument("--bo-batch", type=positive_int, default=50)
    optimize.set_defaults(handler=_optimize)

    sample = commands.add_parser("sample", help="decode molecules from the prior")
    sample.add_argument("model")
    sample.add_argument("-n", type=int, default=10)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--stochastic", action="store_true", help="sample tree decisions instead of greedy")
    sample.add_argument("--device", default="auto")
    sample.set_defaults(handler=_sample)

    add_reproduce_command(commands, "molgraph")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
