"""``survival`` command line: list datasets, cross-validate models, fit, predict, reproduce.

survival datasets
survival evaluate --dataset whas500 --models mtlr,coxkp,km --folds 5 --out runs/eval
survival evaluate --csv patients.csv --time-col days --event-col died
survival fit --csv train.csv --time-col days --event-col died --model mtlr --predict new.csv --out runs/fit
survival predict runs/fit/model.safetensors new.csv --out runs/predicted
survival reproduce --scale smoke

Every command takes the shared options of `core.cli` (``--seed``, ``--device``, ``--threads``,
``--out`` always a folder); the MTLR options of ``fit`` are read from `MTLRConfig` with its
defaults. Bad input ends in one line on stderr and exit code 2. Nothing heavy (torch, scikit-learn,
scikit-survival, matplotlib) is imported until a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.cli import (
    add_config_arguments,
    add_device_option,
    add_out_option,
    add_seed_option,
    add_threads_option,
    dispatch,
    existing_file,
    package_cli,
    positive_float,
    positive_int,
)
from core.errors import InputError
from core.reproduce import add_reproduce_command

DESCRIPTION = (
    "Individual survival distributions: MTLR and the ISD baselines, evaluated with concordance, "
    "Brier, L1, 1-calibration and D-calibration."
)

# the MTLR options of `survival fit` (their defaults come from MTLRConfig)
_MTLR_OPTIONS = (
    "n_bins",
    "c1",
    "c1_grid",
    "cv_folds",
    "optimizer",
    "max_iter",
    "tol",
    "lr",
    "batch_size",
    "patience",
    "grid_end",
    "tail",
)

_MTLR_HELP = {
    "n_bins": "mtlr: number of time points (None: ceil(sqrt(events)))",
    "c1": "mtlr: L2 weight C1 (None: chosen from --c1-grid by internal CV)",
    "c1_grid": "mtlr: C1 values of the internal CV",
    "cv_folds": "mtlr: folds of the internal CV",
    "optimizer": "mtlr: lbfgs or adam",
    "max_iter": "mtlr: L-BFGS iterations / Adam epochs",
    "tol": "mtlr: L-BFGS gradient max-norm tolerance",
    "lr": "mtlr: Adam learning rate",
    "batch_size": "mtlr: Adam batch size (None: full batch)",
    "patience": "mtlr: Adam early-stopping patience (epochs)",
    "grid_end": "mtlr: last time point at the last event (last_event) or the largest time (max_time)",
    "tail": "mtlr: curves past the grid: linear (the paper) or exponential",
}


def _datasets(args: argparse.Namespace) -> int:
    from survival.datasets import DATASETS, load_dataset

    for name in DATASETS:
        data = load_dataset(name)
        print(f"{name:14s} {len(data.X):5d} rows {int(data.y['event'].sum()):5d} events  {data.source}")
    return 0


def _load_table(args: argparse.Namespace) -> Any:
    from survival.datasets import SurvivalDataset, load_dataset
    from survival.tables import from_csv

    if (args.dataset is None) == (args.csv is None):
        raise InputError(
            "give exactly one of --dataset and --csv", item=f"--dataset {args.dataset}, --csv {args.csv}"
        )
    if args.dataset is not None:
        return load_dataset(args.dataset)
    X, y = from_csv(args.csv, time_col=args.time_col, event_col=args.event_col)
    return SurvivalDataset(name=Path(args.csv).stem, X=X, y=y, source=str(args.csv))


def _model_names(text: str) -> list[str]:
    from survival.models import MODELS

    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in MODELS:
            raise InputError("unknown model", item=repr(name), expected=f"one of {sorted(MODELS)}")
    if not names:
        raise InputError("no model named", item=repr(text))
    return names


def _model_params(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Hyper-parameters from the command line: the MTLR options for ``mtlr``, the seed for every seeded model."""
    import inspect
    from dataclasses import asdict

    from core.cli import config_from_args
    from survival.models import MODELS
    from survival.mtlr import MTLRConfig

    if name == "mtlr":
        return asdict(config_from_args(MTLRConfig, args, seed=args.seed, device=args.device))
    params: dict[str, Any] = {}
    accepted = inspect.signature(MODELS[name]).parameters
    if "seed" in accepted:
        params["seed"] = args.seed
    if "device" in accepted:
        params["device"] = args.device
    return params


def _evaluate(args: argparse.Namespace) -> int:
    from core.results import ResultTable, mean_sd
    from survival.experiment import FOLD_METRICS, cross_validate

    data = _load_table(args)
    names = _model_names(args.models)
    result = cross_validate(
        data, {name: _model_params(name, args) for name in names}, folds=args.folds, seed=args.seed
    )
    table = ResultTable(
        name=f"evaluate_{data.name}",
        title=f"{data.name}: {result.n_rows} rows, {result.n_events} events, {args.folds}-fold CV (seed {args.seed})",
        notes="mean ± sd over folds; d_cal_p and one_cal_p from pooled out-of-fold predictions "
        "(conventions: survival.metrics.CONVENTIONS)",
        data=data.source,
    )
    for name in names:
        row: dict[str, Any] = {"model": name}
        row.update({m: mean_sd(result.fold_metrics[name][m]) for m in FOLD_METRICS})
        row["d_cal_p"] = result.d_calibration[name].p_value
        row["one_cal_p"] = result.one_calibration[name].p_value
        table.add(**row)
    print(table.to_markdown(float_format="{:.3g}"))
    print(f"written {table.save(args.out)}")
    return 0


def _write_predictions(curves: Any, times: Any, out: Path) -> Path:
    import numpy as np
    import pandas as pd

    from core.files import atomic_write

    grid = np.asarray(times, dtype=float)
    table = pd.DataFrame(curves.survival_at(grid), columns=[f"S({t:.6g})" for t in grid])
    table.insert(0, "mean_time", curves.mean_survival_time())
    table.insert(0, "median_time", curves.median_survival_time())
    out.mkdir(parents=True, exist_ok=True)
    path = atomic_write(out / "curves.csv", lambda tmp: table.to_csv(tmp, index=False))
    print(f"{len(table)} predicted curves written to {path}")
    return path


def _read_features(path: Path, drop: Sequence[str]) -> Any:
    from survival.tables import read_csv

    return read_csv(path).drop(columns=list(drop), errors="ignore")


def _fit(args: argparse.Namespace) -> int:
    import numpy as np

    from survival.models import make_model
    from survival.mtlr import MTLR
    from survival.preprocess import Preprocessor
    from survival.tables import from_csv

    X, y = from_csv(args.csv, time_col=args.time_col, event_col=args.event_col)
    (name,) = _model_names(args.model)
    new = _read_features(args.predict, (args.time_col, args.event_col)) if args.predict else None
    pre = Preprocessor().fit(X)
    features_new = pre.transform(new) if new is not None else None  # bad rows fail before fitting
    model = make_model(name, **_model_params(name, args)).fit(pre.transform(X), y)
    for line in pre.report_:
        print(f"preprocessing: {line}")
    if isinstance(model, MTLR):
        args.out.mkdir(parents=True, exist_ok=True)
        path = model.save(args.out / "model.safetensors", preprocessor=pre)
        print(f"model and its preprocessing written to {path} (C1 = {model.c1_:g})")
    else:
        print(f"{name}: not saved (model files are written for mtlr and neural-mtlr)")
    if features_new is not None:
        times = np.quantile(y[args.time_col], np.linspace(0.1, 0.9, 9))
        _write_predictions(model.predict_curves(features_new), times, args.out)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from survival.mtlr import MTLR

    model = MTLR.load(args.model)
    if model.preprocessor_ is None:
        raise InputError(
            "the model file carries no preprocessing",
            item=str(args.model),
            expected="a file written by `survival fit`",
        )
    features = model.preprocessor_.transform(_read_features(args.csv, args.drop))
    times = args.times if args.times else model.unique_times_
    _write_predictions(model.predict_curves(features), times, args.out)
    return 0


def _add_table_args(parser: argparse.ArgumentParser, *, csv_required: bool = False) -> None:
    if not csv_required:
        parser.add_argument("--dataset", help="a bundled dataset (see `survival datasets`)")
    parser.add_argument(
        "--csv",
        type=existing_file,
        required=csv_required,
        help="a CSV file with a header row, one patient per row",
    )
    parser.add_argument("--time-col", default="time", help="column of event/censoring times (default: time)")
    parser.add_argument(
        "--event-col", default="event", help="column of 1 = event, 0 = censored (default: event)"
    )


def _add_shared(parser: argparse.ArgumentParser, out: str, what: str) -> None:
    add_seed_option(parser)
    add_device_option(parser, default="cpu")
    add_threads_option(parser)
    add_out_option(parser, out, what)


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = package_cli("survival", DESCRIPTION)
    sub = commands.add_parser("datasets", help="list the bundled real datasets")
    sub.set_defaults(handler=_datasets)

    sub = commands.add_parser(
        "evaluate", help="cross-validate models on a dataset or CSV, print every metric"
    )
    _add_table_args(sub)
    sub.add_argument(
        "--models", default="km,coxkp,mtlr", help="comma-separated model names (default: km,coxkp,mtlr)"
    )
    sub.add_argument("--folds", type=positive_int, default=5, help="number of CV folds (default: 5)")
    _add_shared(sub, "runs/survival-evaluate", "the results table (JSON, markdown)")
    sub.set_defaults(handler=_evaluate)

    sub = commands.add_parser(
        "fit",
        help="fit one model on a CSV; save it (MTLR) with its preprocessing; optionally predict another CSV",
    )
    _add_table_args(sub, csv_required=True)
    sub.add_argument("--model", default="mtlr", help="model name (default: mtlr)")
    sub.add_argument("--predict", type=existing_file, help="CSV of patients to predict curves for")
    add_config_arguments(sub, _mtlr_config(), include=_MTLR_OPTIONS, help=_MTLR_HELP)
    _add_shared(sub, "runs/survival-fit", "model.safetensors and curves.csv")
    sub.set_defaults(handler=_fit)

    sub = commands.add_parser("predict", help="predict curves for a CSV with a model saved by `survival fit`")
    sub.add_argument("model", type=existing_file, help="model.safetensors written by `survival fit`")
    sub.add_argument(
        "csv", type=existing_file, help="CSV of patients (the training columns; others are ignored)"
    )
    sub.add_argument(
        "--times",
        type=positive_float,
        nargs="+",
        help="times at which to report S(t) (default: the model's grid)",
    )
    sub.add_argument(
        "--drop", nargs="*", default=("time", "event"), help="columns to ignore (default: time event)"
    )
    add_threads_option(sub)
    add_out_option(sub, "runs/survival-predict", "curves.csv")
    sub.set_defaults(handler=_predict)

    add_reproduce_command(commands, "survival")
    return dispatch(parser, argv)


def _mtlr_config() -> type:
    """`MTLRConfig` without importing torch: its module's dataclass is read from source."""
    from survival.config import MTLRConfig

    return MTLRConfig


if __name__ == "__main__":
    sys.exit(main())
