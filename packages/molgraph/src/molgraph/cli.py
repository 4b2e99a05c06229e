"""``molgraph`` command line: data, decompose, vocab, fit, encode, reconstruct, evaluate, optimize, sample, reproduce.

Built on `core.cli`: validated ``--seed``, ``--device``, ``--threads``, ``--out`` (always a folder);
the model and training options are generated from `JTVAEConfig` and `TrainConfig` (their defaults,
never copies); bad input ends in one line on stderr and exit code 2. Only the chosen command
imports torch or RDKit, so ``molgraph --help`` imports neither. Commands over several molecules
report each bad one (file, line, text, reason) and go on with the others.
"""

from __future__ import annotations

import argparse
import json
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
    existing_file,
    package_cli,
    positive_int,
)
from core.reproduce import add_reproduce_command
from molgraph.config import JTVAEConfig, TrainConfig

DESCRIPTION = (
    "Junction Tree VAE for molecular graphs: tree decomposition, encoders, a decoder that only "
    "emits valid molecules, latent optimisation."
)
SHOWN_FAILURES = 20
"""Bad input lines printed one by one before the rest are only counted."""


def _data(args: argparse.Namespace) -> int:
    from molgraph.data import fetch_moses

    paths = fetch_moses(args.dest, wheel=args.wheel)
    for split, path in paths.items():
        print(f"{split}: {path}")
    return 0


def _report_failures(failures, records) -> None:  # type: ignore[no-untyped-def]
    """One stderr line per dropped input (file, line, text, reason), the first `SHOWN_FAILURES` of them."""
    for failure in failures[:SHOWN_FAILURES]:
        where = records[failure.index].where if records is not None else f"item {failure.index + 1}"
        detail = f" ({failure.detail})" if failure.detail else ""
        print(f"molgraph: skipped {where}: {failure.smiles}: {failure.reason}{detail}", file=sys.stderr)
    if len(failures) > SHOWN_FAILURES:
        print(f"molgraph: ... and {len(failures) - SHOWN_FAILURES} more skipped", file=sys.stderr)


_PERI_HELP = (
    "merge the rings around an atom in three or more rings into one cluster (exact round trips of "
    "peri-fused systems; default: the paper's decomposition)"
)


def _decompose(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from molgraph.tree import JunctionTree

    failed = 0
    for smiles in args.smiles:
        try:
            tree = JunctionTree(smiles, merge_peri_fused=args.merge_peri_fused)
        except InputError as exc:
            print(f"molgraph: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        clusters = [n.smiles for n in tree.nodes]
        print(json.dumps({"smiles": tree.smiles, "clusters": clusters, "edges": tree.edges}), flush=True)
    return 2 if failed else 0


def _round_trip(args: argparse.Namespace) -> int:
    from collections import Counter

    from core.errors import InputError
    from core.progress import progress
    from molgraph.assembly import round_trip
    from molgraph.data import load_records
    from molgraph.tree import JunctionTree

    records = load_records(args.smiles_file, limit=args.limit)
    outcomes: Counter = Counter()
    for record in progress(records, desc="round trip"):
        try:
            result = round_trip(JunctionTree(record.smiles, merge_peri_fused=args.merge_peri_fused))
        except InputError as exc:
            outcomes["invalid SMILES"] += 1
            print(f"molgraph: skipped {record.where}: {exc}", file=sys.stderr)
            continue
        outcomes[result.reason or "exact"] += 1
        if result.reason is not None:
            print(
                f"molgraph: {record.where}: {record.smiles}: {result.reason} {result.details}",
                file=sys.stderr,
            )
    summary = {"molecules": len(records), "merge_peri_fused": args.merge_peri_fused, **outcomes}
    print(json.dumps(summary))
    return 0


def _vocab(args: argparse.Namespace) -> int:
    from molgraph.data import load_records
    from molgraph.dataset import build_vocab

    records = load_records(args.smiles_file, limit=args.limit)
    vocab, failures = build_vocab(
        [r.smiles for r in records], workers=args.workers, merge_peri_fused=args.merge_peri_fused
    )
    _report_failures(failures, records)
    path = vocab.save(Path(args.out) / "vocab.json")
    kept = len(records) - len(failures)
    print(f"{len(vocab)} clusters from {kept} of {len(records)} molecules written to {path}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from core.device import pick_device
    from molgraph.data import load_records
    from molgraph.dataset import prepare
    from molgraph.model import JTVAE
    from molgraph.training import train
    from molgraph.vocab import Vocab

    config = config_from_args(JTVAEConfig, args)
    schedule = config_from_args(TrainConfig, args)
    vocab = Vocab.load(args.vocab) if args.vocab else None
    records = load_records(args.smiles_file, limit=args.limit)
    if vocab is not None and args.merge_peri_fused and not vocab.merge_peri_fused:
        from core.errors import InputError

        raise InputError(
            "--merge-peri-fused contradicts the vocabulary (built with the paper's decomposition)",
            item=args.vocab,
            expected="a vocabulary from `molgraph vocab --merge-peri-fused`, or no --vocab",
        )
    prepared = prepare(
        [r.smiles for r in records],
        vocab,
        desc="fit",
        workers=args.workers,
        merge_peri_fused=args.merge_peri_fused,
    )
    _report_failures(prepared.failures, records)
    print(prepared.report(), flush=True)
    model = JTVAE(prepared.vocab, config, seed=schedule.seed).to(pick_device(args.device))
    out = Path(args.out)
    history = train(model, prepared.samples, schedule, checkpoint=out / "training.safetensors")
    model.save(out / "model.safetensors", extra={"history": history.rows})
    print(f"model written to {out / 'model.safetensors'}; last epoch: {history.rows[-1]}")
    return 0


def _load(path: str, device: str):  # type: ignore[no-untyped-def]
    from core.device import pick_device
    from molgraph.model import JTVAE

    return JTVAE.load(path, device=pick_device(device))


def _each_encodable(model, smiles: Sequence[str], action) -> int:  # type: ignore[no-untyped-def]
    """``action(smiles)`` for each input; a bad one is reported on stderr and the rest go on."""
    from core.errors import InputError

    failed = 0
    for text in smiles:
        try:
            print(action(text), flush=True)
        except InputError as exc:
            print(f"molgraph: error: {exc}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


def _encode(args: argparse.Namespace) -> int:
    model = _load(args.model, args.device)

    def encode(text: str) -> str:
        z = model.encode(text)[0]
        return json.dumps({"smiles": text, "z": [round(float(v), 6) for v in z]})

    return _each_encodable(model, args.smiles, encode)


def _reconstruct(args: argparse.Namespace) -> int:
    model = _load(args.model, args.device)
    return _each_encodable(model, args.smiles, lambda text: f"{text}\t{model.reconstruct(text)[0]}")


def _evaluate(args: argparse.Namespace) -> int:
    from core.results import ResultTable
    from molgraph.data import load_records, load_smiles
    from molgraph.evaluate import prior_quality, reconstruction_accuracy

    model = _load(args.model, args.device)
    records = load_records(args.test)
    test = _first_encodable(records, model, args.n_test)
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
        data={"test": str(args.test), "training": str(args.train) if args.train else None},
    )
    table.add(metric="reconstruction (posterior draws)", value=recon)
    table.add(metric="reconstruction (posterior mean)", value=recon_mean)
    for name, value in prior.items():
        table.add(metric=f"prior {name}", value=value)
    print(table.to_markdown())
    table.save(Path(args.out))
    return 0


def _first_encodable(records, model, n: int):  # type: ignore[no-untyped-def]
    """The first `n` molecules of `records` the model can encode (prepared in slices of what is
    still missing); the skipped ones are reported on stderr with their file and line."""
    from collections import Counter

    from molgraph.dataset import Failure, PreparedSet, prepare

    test = PreparedSet([], model.vocab, Counter())
    start = 0
    while len(test.samples) < n and start < len(records):
        piece = records[start : start + n - len(test.samples)]
        part = prepare([r.smiles for r in piece], model.vocab, desc="test set", candidates=False)
        test.samples += part.samples
        test.dropped += part.dropped
        test.failures += [Failure(f.index + start, f.smiles, f.reason, f.detail) for f in part.failures]
        start += len(piece)
    _report_failures(test.failures, records)
    return test


def _optimize(args: argparse.Namespace) -> int:
    from molgraph.data import load_records, load_smiles
    from molgraph.dataset import prepare
    from molgraph.reproduce import optimisation_table

    model = _load(args.model, args.device)
    training = prepare(
        load_smiles(args.train, limit=args.train_limit), model.vocab, desc="training set", candidates=False
    )
    test = _first_encodable(load_records(args.test), model, args.n_test)
    out = Path(args.out)
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
        data={"training": str(args.train), "test": str(args.test)},
    )
    print(table.to_markdown())
    table.save(out)
    return 0


def _sample(args: argparse.Namespace) -> int:
    model = _load(args.model, args.device)
    for smiles in model.sample(args.n, seed=args.seed, greedy=not args.stochastic):
        print(smiles if smiles is not None else "(no molecule assembled)")
    return 0


def _model_command(commands, name: str, text: str):  # type: ignore[no-untyped-def]
    """A sub-command whose first argument is a saved model, with ``--device`` and ``--threads``."""
    sub = commands.add_parser(name, help=text)
    sub.add_argument("model", type=existing_file, help="model.safetensors written by `molgraph fit`")
    add_device_option(sub)
    add_threads_option(sub)
    return sub


def _add_experiment_options(sub: argparse.ArgumentParser, written: str, default_out: str) -> None:
    """Options shared by `evaluate` and `optimize`."""
    sub.add_argument("--train-limit", type=positive_int, default=None, help="first N training SMILES only")
    sub.add_argument("--n-test", type=positive_int, default=1000, help="test molecules used")
    add_seed_option(sub)
    add_out_option(sub, default_out, written)


def build_parser() -> argparse.ArgumentParser:
    parser, commands = package_cli("molgraph", DESCRIPTION)
    source_help = "SMILES file (SMILES, then an optional ID, per line), bundled:train or moses:train"

    data = commands.add_parser("data", help="fetch datasets into the cache")
    data.add_argument("dataset", choices=["moses"], help="moses: the MOSES splits from the molsets wheel")
    data.add_argument("--dest", default=None, help="target folder (default: the molgraph cache)")
    data.add_argument(
        "--wheel", default=None, help="use this downloaded molsets wheel instead of pip download"
    )
    data.set_defaults(handler=_data)

    decompose = commands.add_parser("decompose", help="print clusters and junction-tree edges of SMILES")
    decompose.add_argument("smiles", nargs="+")
    decompose.add_argument("--merge-peri-fused", action="store_true", help=_PERI_HELP)
    decompose.set_defaults(handler=_decompose)

    trip = commands.add_parser(
        "round-trip", help="decompose and reassemble each molecule from its true tree; count the outcomes"
    )
    trip.add_argument("smiles_file", help=source_help)
    trip.add_argument("--limit", type=positive_int, default=None, help="read at most this many SMILES")
    trip.add_argument("--merge-peri-fused", action="store_true", help=_PERI_HELP)
    trip.set_defaults(handler=_round_trip)

    vocab = commands.add_parser("vocab", help="build a cluster vocabulary (decomposition only) from SMILES")
    vocab.add_argument("smiles_file", help=source_help)
    add_out_option(vocab, "runs/molgraph-vocab", "vocab.json")
    vocab.add_argument("--limit", type=positive_int, default=None, help="read at most this many SMILES")
    vocab.add_argument("--workers", type=positive_int, default=1, help="processes for the decomposition")
    vocab.add_argument("--merge-peri-fused", action="store_true", help=_PERI_HELP)
    vocab.set_defaults(handler=_vocab)

    fit = commands.add_parser("fit", help="train a JT-VAE on a SMILES file (resumes from --out)")
    fit.add_argument("smiles_file", help=source_help)
    add_out_option(fit, "runs/molgraph-fit", "the model and the training checkpoint")
    fit.add_argument(
        "--vocab", type=existing_file, default=None, help="vocabulary JSON (default: built from the file)"
    )
    fit.add_argument("--limit", type=positive_int, default=None, help="read at most this many SMILES")
    fit.add_argument(
        "--merge-peri-fused", action="store_true", help=_PERI_HELP + "; a --vocab brings its own"
    )
    add_config_arguments(
        fit,
        JTVAEConfig,
        help={
            "max_stereoisomers": "stereoisomers scored after decoding (0: decode without stereo, e.g. MOSES)"
        },
    )
    add_config_arguments(fit, TrainConfig, exclude=["seed"])
    add_seed_option(fit, TrainConfig.seed)
    fit.add_argument(
        "--workers", type=positive_int, default=1, help="processes for decomposition and candidates"
    )
    add_device_option(fit)
    add_threads_option(fit)
    fit.set_defaults(handler=_fit)

    for name, handler, text in (
        ("encode", _encode, "print latent means of SMILES as JSON lines"),
        ("reconstruct", _reconstruct, "encode then decode SMILES"),
    ):
        sub = _model_command(commands, name, text)
        sub.add_argument("smiles", nargs="+")
        sub.set_defaults(handler=handler)

    evaluate = _model_command(
        commands, "evaluate", "the paper's reconstruction (encodings x decodings) and prior-sample metrics"
    )
    evaluate.add_argument("test", help="SMILES file, bundled:test or moses:test")
    evaluate.add_argument("--train", default=None, help="training SMILES for novelty (file or name)")
    _add_experiment_options(evaluate, "the table as JSON and markdown", "runs/molgraph-evaluate")
    evaluate.add_argument("--encodings", type=positive_int, default=10)
    evaluate.add_argument("--decodings", type=positive_int, default=10)
    evaluate.add_argument("--samples", type=positive_int, default=1000, help="prior samples")
    evaluate.set_defaults(handler=_evaluate)

    optimize = _model_command(
        commands,
        "optimize",
        "penalised-logP optimisation: constrained gradient ascent and Bayesian optimisation",
    )
    optimize.add_argument("train", help="molecules the property predictor is fitted on (file or name)")
    optimize.add_argument("test", help="molecules to improve: the --n-test first, of which the --n-opt worst")
    _add_experiment_options(optimize, "the table and the BO plot", "runs/molgraph-optimize")
    optimize.add_argument(
        "--n-opt", type=positive_int, default=800, help="lowest-scoring test molecules optimised"
    )
    optimize.add_argument("--steps", type=positive_int, default=80, help="gradient steps (the paper: 80)")
    optimize.add_argument("--bo-rounds", type=positive_int, default=10)
    optimize.add_argument("--bo-batch", type=positive_int, default=50)
    optimize.set_defaults(handler=_optimize)

    sample = _model_command(commands, "sample", "decode molecules from the prior")
    sample.add_argument("-n", type=positive_int, default=10, help="number of prior draws")
    add_seed_option(sample)
    sample.add_argument("--stochastic", action="store_true", help="sample tree decisions instead of greedy")
    sample.set_defaults(handler=_sample)

    add_reproduce_command(commands, "molgraph")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return dispatch(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
