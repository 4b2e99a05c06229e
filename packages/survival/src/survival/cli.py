"""``survival`` command line: list datasets, cross-validate models, fit and predict, reproduce.

survival datasets
survival evaluate --dataset whas500 --models mtlr,coxkp,km --folds 5
survival evaluate --csv patients.csv --time-col days --event-col died
survival fit --csv train.csv --time-col days --event-col died --model mtlr --predict new.csv --out curves.csv
survival reproduce --scale smoke
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from core.checkpoint import atomic_write
from core.cli import dispatch, package_cli
from core.errors import InputError
from core.reproduce import add_reproduce_command

DESCRIPTION = (
    "Individual survival distributions: MTLR and the ISD baselines, evaluated with concordance, "
    "Brier, L1, 1-calibration and D-calibration."
)


def _datasets(args: argparse.Namespace) -> int:
    from survival.data import DATASETS, load_dataset

    for name in DATASETS:
        data = load_dataset(name)
        print(f"{name:14s} {len(data.X):5d} rows {int(data.y['event'].sum()):5d} events  {data.source}")
    return 0


def _load_table(args: argparse.Namespace):
    from survival.data import SurvivalDataset, from_csv, load_dataset

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
    return names


def _evaluate(args: argparse.Namespace) -> int:
    from core.results import mean_sd
    from survival.experiment import FOLD_METRICS, cross_validate

    data = _load_table(args)
    names = _model_names(args.models)
    result = cross_validate(data, {name: {} for name in names}, folds=args.folds, seed=args.seed)
    print(f"{data.name}: {result.n_rows} rows, {result.n_events} events, {args.folds}-fold CV")
    header = ["model", *FOLD_METRICS, "d_cal_p", "one_cal_p"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in names:
        cells = [mean_sd(result.fold_metrics[name][m]) for m in FOLD_METRICS]
        cells += [f"{result.d_calibration[name].p_value:.3g}", f"{result.one_calibration[name].p_value:.3g}"]
        print("| " + " | ".join([name, *cells]) + " |")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from survival.data import Preprocessor, from_csv
    from survival.models import make_model
    from survival.mtlr import MTLR

    X, y = from_csv(args.csv, time_col=args.time_col, event_col=args.event_col)
    (name,) = _model_names(args.model)
    pre = Preprocessor().fit(X)
    model = make_model(name).fit(pre.transform(X), y)
    for line in pre.report_:
        print(f"preprocessing: {line}")
    if args.save is not None:
        if not isinstance(model, MTLR):
            raise InputError("--save is available for MTLR models only", item=name)
        print(f"model written to {model.save(args.save)}")
    if args.predict is not None:
        new = pd.read_csv(args.predict) if Path(args.predict).is_file() else None
        if new is None:
            raise InputError("CSV file not found", item=str(args.predict))
        curves = model.predict_survival_function(
            pre.transform(new.drop(columns=[args.time_col, args.event_col], errors="ignore"))
        )
        times = np.quantile(y[args.time_col], np.linspace(0.1, 0.9, 9))
        table = pd.DataFrame(curves.survival_at(times), columns=[f"S({t:.4g})" for t in times])
        table.insert(0, "mean_time", curves.mean_survival_time())
        table.insert(0, "median_time", curves.median_survival_time())
        out = Path(args.out)
        atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))
        print(f"{len(table)} predicted curves written to {out}")
    return 0


def _add_table_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="a bundled dataset (see `survival datasets`)")
    parser.add_argument("--csv", type=Path, help="a CSV file with a header row")
    parser.add_argument("--time-col", default="time", help="column of event/censoring times (default: time)")
    parser.add_argument(
        "--event-col", default="event", help="column of 1 = event, 0 = censored (default: event)"
    )


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
    sub.add_argument("--folds", type=int, default=5, help="number of CV folds (default: 5)")
    sub.add_argument("--seed", type=int, default=0)
    sub.set_defaults(handler=_evaluate)
    sub = commands.add_parser(
        "fit", help="fit one model on a CSV; optionally save it and predict curves for another CSV"
    )
    _add_table_args(sub)
    sub.add_argument("--model", default="mtlr", help="model name (default: mtlr)")
    sub.add_argument("--save", type=Path, help="write the fitted MTLR model to this .safetensors file")
    sub.add_argument("--predict", type=Path, help="CSV of patients to predict curves for")
    sub.add_argument(
        "--out",
        type=Path,
        default=Path("curves.csv"),
        help="where to write predictions (default: curves.csv)",
    )
    sub.set_defaults(handler=_fit)
    add_reproduce_command(commands, "survival")
    return dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
