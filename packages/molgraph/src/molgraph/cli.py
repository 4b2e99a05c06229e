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
    non_negative_int,
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
    from molgraph.model import JTVAE
    from molgraph.training import train
    from molgraph.vocab import Vocab

    config = config_from_args(JTVAEConfig, args)
    schedule = config_from_args(TrainConfig, args)
    if args.init is not None and args.vocab:
        from core.errors import InputError

        raise InputError("--init brings its own vocabulary; drop --vocab", item=args.vocab)
    vocab = Vocab.load(args.vocab) if args.vocab else None
    start = None
    if args.init is not None:
        start = _init_model(args.init)
        vocab, config = start.vocab, start.config
    limit = None if args.limit is None else args.limit + args.skip
    records = load_records(args.smiles_file, limit=limit)[args.skip :]
    if vocab is not None and args.merge_peri_fused and not vocab.merge_peri_fused:
        from core.errors import InputError

        raise InputError(
            "--merge-peri-fused contradicts the vocabulary (built with the paper's decomposition)",
            item=args.vocab,
            expected="a vocabulary from `molgraph vocab --merge-peri-fused`, or no --vocab",
        )
    out = Path(args.out)
    prepared = _prepared_in_blocks(
        out / "prepared", [r.smiles for r in records], vocab, args.workers, args.merge_peri_fused
    )
    _report_failures(prepared.failures, records)
    print(prepared.report(), flush=True)
    model = JTVAE(prepared.vocab, config, seed=schedule.seed)
    if start is not None:  # weights to start from; a checkpoint in --out still takes precedence
        model.load_state_dict(start.state_dict())
    model = model.to(pick_device(args.device))
    history = train(model, prepared.samples, schedule, checkpoint=out / "training.safetensors")
    model.save(out / "model.safetensors", extra={"history": history.rows})
    print(f"model written to {out / 'model.safetensors'}; last epoch: {history.rows[-1]}")
    return 0


def _init_model(source: str):  # type: ignore[no-untyped-def]
    """The model `fit --init` starts from: a ``model.safetensors`` path or ``pretrained:<name>``."""
    from molgraph.model import JTVAE
    from molgraph.pretrained import pretrained

    kind, _, name = source.partition(":")
    return pretrained(name) if kind == "pretrained" and name else JTVAE.load(source)


PREPARED_BLOCK = 512
"""Input SMILES per cached block of `fit`'s prepared training set."""


def _prepared_in_blocks(folder: Path, smiles: list[str], vocab, workers: int, merge_peri_fused: bool):  # type: ignore[no-untyped-def]
    """`prepare(smiles, vocab)`, cached in `folder` as one pickle per block of `PREPARED_BLOCK`
    inputs (named by a hash of the block's SMILES, the vocabulary and the decomposition), so an
    interrupted, resumed or extended `fit` prepares only the blocks it has not written yet (the
    RDKit work is most of a CPU run). A vocabulary built here is cached the same way."""
    import hashlib
    import pickle
    from collections import Counter

    from molgraph.dataset import Failure, PreparedSet, build_vocab, prepare
    from molgraph.vocab import Vocab

    def digest(*parts: bytes) -> str:
        key = hashlib.sha256()
        for part in parts:
            key.update(part)
            key.update(b"\0")
        return key.hexdigest()[:20]

    decomposition = b"merge_peri_fused" if merge_peri_fused else b"paper"
    folder.mkdir(parents=True, exist_ok=True)
    if vocab is None:
        path = folder / f"vocab-{digest(chr(10).join(smiles).encode(), decomposition)}.json"
        if path.is_file():
            vocab = Vocab.load(path)
        else:
            vocab, _ = build_vocab(
                smiles, workers=workers, desc="fit: vocabulary", merge_peri_fused=merge_peri_fused
            )
            vocab.save(path)
    vocab_key = json.dumps(vocab.to_json()).encode()
    total = PreparedSet([], vocab, Counter(), [])
    blocks = range(0, len(smiles), PREPARED_BLOCK)
    for number, start in enumerate(blocks):
        block = smiles[start : start + PREPARED_BLOCK]
        path = folder / f"block-{digest(chr(10).join(block).encode(), vocab_key, decomposition)}.pkl"
        part = None
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    part = pickle.load(handle)
            except Exception as error:  # a damaged block is prepared again, not trusted
                print(f"{path}: not usable ({error}); preparing it again", file=sys.stderr, flush=True)
        if part is None:
            part = prepare(block, vocab, desc=f"fit: block {number + 1}/{len(blocks)}", workers=workers)
            partial = path.with_suffix(".partial")
            with partial.open("wb") as handle:
                pickle.dump(part, handle, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(path)
        total.samples += part.samples
        total.dropped += part.dropped
        total.failures += [Failure(f.index + start, f.smiles, f.reason, f.detail) for f in part.failures]
    print(f"prepared set: {len(blocks)} blocks of {PREPARED_BLOCK} inputs in {folder}", flush=True)
    return total


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
    from molgraph.evaluate import prior_quality_of, reconstruction_accuracy

    if args.n_test == 0 and args.samples == 0:
        from core.errors import InputError

        raise InputError("nothing to evaluate", item="--n-test 0 --samples 0")
    model = _load(args.model, args.device)
    records = load_records(args.test)
    training = load_smiles(args.train, limit=args.train_limit) if args.train else []
    rows: dict[str, float] = {}
    notes = []
    if args.n_test:
        test = _first_encodable(records, model, args.n_test)
        molecules = [s.smiles for s in test.samples]
        rows["reconstruction (posterior draws)"] = reconstruction_accuracy(
            model, molecules, encodings=args.encodings, decodings=args.decodings, seed=args.seed
        )
        rows["reconstruction (posterior mean)"] = reconstruction_accuracy(model, molecules, mean=True)
        notes.append(
            f"{len(molecules)} test molecules from {args.test} ({test.report()}); "
            f"{args.encodings} x {args.decodings} posterior draws each"
        )
    if args.samples:
        samples = model.sample(args.samples, seed=args.seed)
        rows.update({f"prior {k}": v for k, v in prior_quality_of(samples, training).items()})
        notes.append(
            f"{args.samples} prior samples; novelty against {len(training)} SMILES of "
            f"{args.train or 'nothing (not given)'}"
        )
        if args.moses_reference:
            from molgraph.moses_metrics import moses_metrics

            reference = [r.smiles for r in records[: args.moses_reference]]
            table = moses_metrics(samples, reference, training)
            rows.update({f"MOSES {k}": v for k, v in table.items() if k not in ("validity", "novelty")})
            notes.append(f"MOSES metrics against the first {len(reference)} SMILES of {args.test}")
    table = ResultTable(
        "evaluation",
        title=f"JT-VAE {args.model}: reconstruction and prior sampling",
        notes="; ".join(notes) + ".",
        data={"test": str(args.test), "training": str(args.train) if args.train else None},
    )
    for name, value in rows.items():
        table.add(metric=name, value=value)
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


def _add_experiment_options(
    sub: argparse.ArgumentParser,
    written: str,
    default_out: str,
    n_test_help: str = "test molecules used",
    zero_test: bool = False,
) -> None:
    """Options shared by `evaluate` and `optimize`."""
    sub.add_argument("--train-limit", type=positive_int, default=None, help="first N training SMILES only")
    count = non_negative_int if zero_test else positive_int
    sub.add_argument("--n-test", type=count, default=1000, help=n_test_help)
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
        "--skip", type=non_negative_int, default=0, help="skip the first N SMILES (before --limit)"
    )
    fit.add_argument(
        "--init",
        default=None,
        help="start from these weights: a model.safetensors or pretrained:moses (its vocabulary and"
        " model options are used; the model options given here are ignored)",
    )
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
    _add_experiment_options(
        evaluate,
        "the table as JSON and markdown",
        "runs/molgraph-evaluate",
        "test molecules reconstructed (0: no reconstruction)",
        zero_test=True,
    )
    evaluate.add_argument("--encodings", type=positive_int, default=10)
    evaluate.add_argument("--decodings", type=positive_int, default=10)
    evaluate.add_argument(
        "--samples", type=non_negative_int, default=1000, help="prior samples (0: no prior metrics)"
    )
    evaluate.add_argument(
        "--moses-reference",
        type=non_negative_int,
        default=0,
        help="also score the prior samples with the MOSES metrics (FCD included) against the first N"
        " test SMILES (0: not)",
    )
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
