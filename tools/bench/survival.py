"""Benchmark: our MTLR against pycox's MTLR on the same cross-validation folds, every shipped dataset.

pycox and ours with Adam for the same number of epochs, batch size, learning rate and number of
time bins (quantiles of the event times), without L2 (pycox has none), on one torch thread; our
default (full-batch L-BFGS to the gradient test, C1 chosen by internal 5-fold CV along the
warm-started path), our L-BFGS fit at the C1 the default chose ("single fit") and our default
with one more time point at the largest observed time (``grid_end="max_time"``) alongside.
Quality under the package's conventions (`survival.metrics.CONVENTIONS`): Harrell's C, IBS and
L1-margin / L1-hinge per fold (mean) and the D-calibration p-value of the pooled out-of-fold
predictions, each for the curves read with the linear and the exponential tail past their last
time point (`survival.curves`). Speed: median fit seconds over folds and the ratio pycox / ours.
``torchsurv`` has no MTLR (it ships Cox and Weibull losses), so it is not a peer.

    uv run --group bench python tools/bench/survival.py [--datasets flchain actg175] [--out runs/bench]
    uv run --group bench python tools/bench/survival.py --c1-choices   # C1 chosen per fold, warnings
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

# this file is named like the package it benchmarks: keep its folder off the import path
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from core.results import ResultTable  # noqa: E402
from core.timing import Timer  # noqa: E402
from survival import DATASETS, MTLR, Preprocessor, SurvivalCurves, load_dataset  # noqa: E402
from survival.metrics import d_calibration, fold_metrics  # noqa: E402
from survival.mtlr import mtlr_time_grid  # noqa: E402

DEFAULT = "ours (default: L-BFGS + CV C1)"
SINGLE = "ours (L-BFGS single fit at the default's C1)"
MAX_TIME = "ours (default, grid to the largest time)"
VARIANTS = ("pycox (adam)", "ours (adam)", DEFAULT, SINGLE, MAX_TIME)
TAILS = ("linear", "exponential")


def fit_pycox(X: np.ndarray, time_: np.ndarray, event: np.ndarray, n_bins: int, args: argparse.Namespace):
    import torchtuples as tt
    from pycox.models import MTLR as PycoxMTLR

    labtrans = PycoxMTLR.label_transform(n_bins, scheme="quantiles")
    target = labtrans.fit_transform(time_.astype("float32"), event.astype("float32"))
    with torch.random.fork_rng(devices=[]):  # pycox draws from torch's global generator
        torch.manual_seed(0)
        net = torch.nn.Linear(X.shape[1], labtrans.out_features)
        model = PycoxMTLR(net, tt.optim.Adam(lr=args.lr), duration_index=labtrans.cuts)
        # its batches are shuffled from the global generator too: seeded here, so runs repeat
        model.fit(X.astype("float32"), target, batch_size=args.batch_size, epochs=args.epochs, verbose=False)
    return model


def fit_variant(variant: str, X: np.ndarray, y: np.ndarray, n_bins: int, args: argparse.Namespace, c1=None):
    """Fit one of the compared MTLR implementations on (X, y)."""
    if variant == SINGLE:
        return MTLR(n_bins=n_bins, c1=c1).fit(X, y)
    if variant == MAX_TIME:
        return MTLR(n_bins=n_bins, grid_end="max_time").fit(X, y)
    if variant == "pycox (adam)":
        return fit_pycox(X, y["time"], y["event"], n_bins, args)
    if variant == "ours (adam)":
        return MTLR(
            c1=0.0,
            optimizer="adam",
            max_iter=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            patience=10**9,
            validation_fraction=0.0,
            n_bins=n_bins,
        ).fit(X, y)
    return MTLR(n_bins=n_bins).fit(X, y)


def pycox_curves(model, X: np.ndarray) -> SurvivalCurves:
    surv = model.predict_surv_df(X.astype("float32"))
    times = surv.index.to_numpy(dtype=float)
    probs = surv.to_numpy().T
    keep = times > 0
    return SurvivalCurves.from_arrays(times[keep], probs[:, keep])


def run(args: argparse.Namespace) -> tuple[ResultTable, list[dict]]:
    torch.set_num_threads(1)
    rows = []
    warm = load_dataset("veterans")  # first calls pay one-off costs (torch's optimiser set-up): not timed
    warm_X = Preprocessor().fit_transform(warm.X)
    for variant in VARIANTS:
        fit_variant(variant, warm_X, warm.y, 5, argparse.Namespace(**{**vars(args), "epochs": 2}), c1=1.0)
    for name in args.datasets:
        data = load_dataset(name)
        event, time_ = data.y["event"], data.y["time"]
        # D-calibration pools the out-of-fold predictions of the folds that ran
        ran = np.zeros(event.size, dtype=bool)
        records = {
            v: {
                "times": [],
                "c1": [],
                "metrics": {tail: [] for tail in TAILS},
                "p": {tail: np.zeros(event.size) for tail in TAILS},
            }
            for v in VARIANTS
        }
        folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
        for train, test in list(folds.split(np.zeros(event.size), event))[: args.max_folds]:
            ran[test] = True
            pre = Preprocessor().fit(data.X.iloc[train])
            X_train, X_test = pre.transform(data.X.iloc[train]), pre.transform(data.X.iloc[test])
            n_bins = mtlr_time_grid(time_[train], event[train]).size
            chosen = None
            for variant in VARIANTS:
                with Timer(cuda_sync=False) as timer:
                    model = fit_variant(variant, X_train, data.y[train], n_bins, args, c1=chosen)
                curves = (
                    pycox_curves(model, X_test)
                    if variant.startswith("pycox")
                    else model.predict_curves(X_test)
                )
                if variant == DEFAULT:
                    chosen = model.c1_
                record = records[variant]
                record["times"].append(timer.seconds)
                record["c1"].append(getattr(model, "c1_", None))
                outcome = (event[test], time_[test], event[train], time_[train])
                for tail in TAILS:
                    read = dataclasses.replace(curves, tail=tail)
                    record["metrics"][tail].append(fold_metrics(read, *outcome))
                    record["p"][tail][test] = read.survival_at_own_times(time_[test])
            done = ", ".join("{}: {:.2f}s".format(v, r["times"][-1]) for v, r in records.items())
            print(f"{name}: fold done ({done})", flush=True)
        base = statistics.median(records["pycox (adam)"]["times"])
        for variant, record in records.items():
            fit_s = statistics.median(record["times"])
            for tail in TAILS:
                folds_done = record["metrics"][tail]
                mean = {key: float(np.nanmean([m[key] for m in folds_done])) for key in folds_done[0]}
                rows.append(
                    {
                        "dataset": name,
                        "n": int(event.size),
                        "model": variant,
                        "tail": tail,
                        "concordance": mean["c_harrell"],
                        "ibs": mean["ibs"],
                        "l1_margin": mean["l1_margin"],
                        "l1_hinge": mean["l1_hinge"],
                        "d_cal_p": d_calibration(record["p"][tail][ran], event[ran], time_[ran]).p_value,
                        "c1": ",".join(f"{c:g}" for c in record["c1"]) if record["c1"][0] is not None else "",
                        "fit_s": fit_s,
                        "speedup_vs_pycox": base / fit_s,
                    }
                )
        print(
            ResultTable(name="partial", rows=[r for r in rows if r["dataset"] == name]).to_markdown("{:.4g}"),
            flush=True,
        )
    table = ResultTable(
        name="bench_mtlr_vs_pycox",
        title=f"MTLR vs pycox MTLR ({args.folds}-fold CV{f', first {args.max_folds} fold(s)' if args.max_folds else ''}, Adam {args.epochs} epochs, batch {args.batch_size}, lr {args.lr})",
        rows=rows,
        notes="fit_s: median seconds per fold (one torch thread); speedup_vs_pycox = pycox fit_s / this fit_s; "
        "tail: how the same fitted curves are read past their last time point (survival.curves); "
        "metrics under survival.metrics.CONVENTIONS.",
        data={name: load_dataset(name).source for name in args.datasets},
    )
    return table, rows


def c1_choices(args: argparse.Namespace) -> ResultTable:
    """`MTLR()` on every training fold of the split: the chosen C1, whether it is at an end of the
    grid, and the ConvergenceWarnings raised (recorded, not hidden)."""
    from sklearn.exceptions import ConvergenceWarning

    from survival.config import C1_GRID

    torch.set_num_threads(1)
    rows = []
    for name in args.datasets:
        data = load_dataset(name)
        event = data.y["event"]
        folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
        for fold, (train, _) in enumerate(folds.split(np.zeros(event.size), event)):
            X_train = Preprocessor().fit_transform(data.X.iloc[train])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model = MTLR().fit(X_train, data.y[train])
            rows.append(
                {
                    "dataset": name,
                    "fold": fold,
                    "c1": model.c1_,
                    "at_grid_end": model.c1_ in (min(C1_GRID), max(C1_GRID)),
                    "c1_reached": ",".join(f"{c:g}" for c in sorted(model.cv_scores_)),
                    "convergence_warnings": sum(issubclass(w.category, ConvergenceWarning) for w in caught),
                }
            )
            print(rows[-1], flush=True)
    return ResultTable(
        name="bench_mtlr_c1_choice",
        title=f"MTLR() on every training fold ({args.folds}-fold split): chosen C1 and ConvergenceWarnings",
        rows=rows,
        data={name: load_dataset(name).source for name in args.datasets},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--max-folds", type=int, default=None, help="run only the first N folds of the split (default: all)"
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    parser.add_argument(
        "--c1-choices",
        action="store_true",
        help="instead: MTLR() on every training fold, the chosen C1 and ConvergenceWarnings per fit",
    )
    args = parser.parse_args()
    if args.c1_choices:
        table = c1_choices(args)
        print(table.to_markdown(float_format="{:g}"))
        print(f"written {table.save(args.out)}")
        return
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    table, _ = run(args)
    print(table.to_markdown(float_format="{:.3g}"))
    path = table.save(args.out)
    print(f"\nwritten {path} in {time.perf_counter() - start:.0f}s")
    meta = {"torch": torch.__version__, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr}
    (args.out / "bench_mtlr_vs_pycox.meta.json").write_text(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
