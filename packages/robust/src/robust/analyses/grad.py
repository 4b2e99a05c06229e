"""GRAD: gradient reversal against a protected attribute (Raff & Sylvester 2018; summary sec. 36).

An encoder maps features to a representation ``z``; a label head predicts the outcome from ``z`` and
an adversary head predicts the protected attribute from ``z`` through `GradientReversal`, the identity
forward and ``-lambda x`` the gradient backward. Minimising both heads' losses then trains the
adversary to find the attribute while the encoder is pushed to remove it. `fairness_gaps` gives the
demographic-parity gap ``|P(yhat=1|a=1) - P(yhat=1|a=0)|`` and the equalised-odds gap (the larger of
the true- and false-positive-rate gaps).

Data: `load_whas500` (scikit-survival's Worcester Heart Attack Study, 500 patients, shipped with the
package): outcome ``fstat`` (death during follow-up), protected attribute ``gender``, the other 13
columns as standardised features. `load_fairness_csv` reads the Adult or COMPAS CSVs for users who
have them (they are not bundled), with one-line `InputError`s for missing files and columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.cli import RunOptions
from core.errors import InputError
from core.results import ResultTable

__all__ = [
    "FAIRNESS_CSV",
    "GRAD_BUDGET",
    "GradientReversal",
    "Tabular",
    "fairness_gaps",
    "fit_grad",
    "load_fairness_csv",
    "load_whas500",
    "study",
]

GRAD_BUDGET = {
    "smoke": {"lambdas": (0.0, 0.3, 1.0, 3.0), "seeds": 3, "epochs": 200, "hidden": 32},
    "full": {"lambdas": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0), "seeds": 10, "epochs": 500, "hidden": 64},
}
"""Reversal strengths lambda (0 = plain training), seeds per lambda, full-batch Adam epochs, width."""

FAIRNESS_CSV = {
    "adult": {"label": ("income", {">50K", ">50K."}), "protected": ("sex", {"Female"})},
    "compas": {"label": ("two_year_recid", {"1"}), "protected": ("race", {"African-American"})},
}
"""Per CSV kind: (label column, values meaning 1) and (protected column, values meaning 1)."""


@dataclass(frozen=True)
class Tabular:
    """Standardised features ``x (n, d)`` float32, binary outcome ``y`` and protected attribute ``a``."""

    x: Tensor
    y: Tensor
    a: Tensor
    description: str


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, strength: float) -> Tensor:
        ctx.strength = strength
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return -ctx.strength * grad, None


class GradientReversal(nn.Module):
    """Identity forward; multiplies the gradient by ``-strength`` backward (Ganin & Lempitsky's layer)."""

    def __init__(self, strength: float = 1.0):
        super().__init__()
        if strength < 0:
            raise InputError(f"gradient reversal strength must be >= 0, got {strength}")
        self.strength = float(strength)

    def forward(self, x: Tensor) -> Tensor:
        return _Reverse.apply(x, self.strength)


def _standardise(features: np.ndarray) -> np.ndarray:
    std = features.std(0)
    return (features - features.mean(0)) / np.where(std > 0, std, 1.0)


def load_whas500() -> Tabular:
    """scikit-survival's WHAS500: outcome fstat (death), protected gender, 13 standardised features."""
    from sksurv.datasets import load_whas500 as load

    frame, outcome = load()
    a = (frame["gender"].astype(float).to_numpy() == 1).astype(np.int64)
    features = _standardise(frame.drop(columns=["gender"]).astype(float).to_numpy())
    return Tabular(
        torch.tensor(features, dtype=torch.float32),
        torch.tensor(outcome["fstat"].astype(np.int64)),
        torch.tensor(a),
        "WHAS500 (scikit-survival): 500 patients, outcome fstat, protected gender == 1, 13 features",
    )


def load_fairness_csv(path: str | Path, kind: str) -> Tabular:
    """Adult (``income``, ``sex``) or COMPAS (``two_year_recid``, ``race``) from a CSV you have.

    Numeric columns are standardised, other columns one-hot encoded; the label and protected columns
    are binarised by `FAIRNESS_CSV`. Raises `InputError` for an unknown kind, a missing file, a file
    that is not CSV, or a missing label/protected column (naming the columns found).
    """
    import pandas as pd

    if kind not in FAIRNESS_CSV:
        raise InputError(f"unknown fairness CSV kind {kind!r}; expected one of {sorted(FAIRNESS_CSV)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (the {kind} CSV is not bundled; download it yourself)")
    try:
        frame = pd.read_csv(path, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable CSV ({error})") from None
    (label, positive), (protected, group) = FAIRNESS_CSV[kind]["label"], FAIRNESS_CSV[kind]["protected"]
    missing = [c for c in (label, protected) if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: {kind} CSV lacks column(s) {missing}; found {list(frame.columns)[:20]}")
    if len(frame) == 0:
        raise InputError(f"{path}: no rows")
    y = frame[label].astype(str).str.strip().isin(positive).to_numpy().astype(np.int64)
    a = frame[protected].astype(str).str.strip().isin(group).to_numpy().astype(np.int64)
    rest = frame.drop(columns=[label, protected])
    numeric = rest.select_dtypes("number")
    categorical = pd.get_dummies(rest.drop(columns=numeric.columns).astype(str), dtype=float)
    features = np.concatenate([_standardise(numeric.to_numpy(float)), categorical.to_numpy()], axis=1)
    return Tabular(
        torch.tensor(features, dtype=torch.float32),
        torch.tensor(y),
        torch.tensor(a),
        f"{kind} CSV {path.name}: {len(frame)} rows, label {label}, protected {protected}",
    )


def fairness_gaps(prediction: Tensor, y: Tensor, a: Tensor) -> dict[str, float]:
    """Accuracy, demographic-parity gap and equalised-odds gap of binary `prediction` for groups `a`."""
    p, y, a = prediction.bool(), y.bool(), a.bool()

    def rate(mask: Tensor) -> float:
        return float(p[mask].float().mean()) if bool(mask.any()) else float("nan")

    tpr = abs(rate(a & y) - rate(~a & y))
    fpr = abs(rate(a & ~y) - rate(~a & ~y))
    return {
        "accuracy": float((p == y).float().mean()),
        "dp_gap": abs(rate(a) - rate(~a)),
        "eo_gap": max(tpr, fpr),
    }


def fit_grad(
    data: Tabular, train: Tensor, strength: float, *, hidden: int, epochs: int, seed: int
) -> tuple[nn.Sequential, nn.Module]:
    """Encoder + label head + reversed adversary head, full-batch Adam on the rows `train`.

    Returns ``(nn.Sequential(encoder, label_head), adversary)``: outcome logits ``(n, 1)`` and the
    trained adversary head (attribute logits from the representation), both in eval mode.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        encoder = nn.Sequential(
            nn.Linear(data.x.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        head, adversary = (
            nn.Linear(hidden, 1),
            nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)),
        )
    reverse = GradientReversal(strength)
    parameters = [*encoder.parameters(), *head.parameters(), *adversary.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=3e-3, weight_decay=1e-4)
    x, y, a = data.x[train], data.y[train].float(), data.a[train].float()
    bce = nn.functional.binary_cross_entropy_with_logits
    for _ in range(epochs):
        z = encoder(x)
        loss = bce(head(z).squeeze(1), y) + bce(adversary(reverse(z)).squeeze(1), a)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return nn.Sequential(encoder, head).eval(), adversary.eval()


def _adversary_probe(z_train: Tensor, a_train: Tensor, z_test: Tensor, a_test: Tensor) -> float:
    """Held-out accuracy of a fresh logistic regression predicting `a` from the frozen representation."""
    from sklearn.linear_model import LogisticRegression

    probe = LogisticRegression(max_iter=2000).fit(z_train.numpy(), a_train.numpy())
    return float(probe.score(z_test.numpy(), a_test.numpy()))


def study(options: RunOptions) -> list[ResultTable]:
    """Accuracy, DP and EO gaps and attribute leakage against the reversal strength on WHAS500."""
    from core.plots import new_figure, save_figure

    budget = GRAD_BUDGET[options.scale]
    data = load_whas500()
    table = ResultTable(
        "grad",
        title="GRAD: gradient reversal against gender on WHAS500 (test split, mean over seeds)",
        data=data.description,
        notes=(
            "Each seed draws a fresh stratified 70/30 split. probe_accuracy: a fresh logistic regression "
            "predicting gender from the learned representation (majority rate beside it). Paper (sec. 36): "
            "reversal lowers the fairness gaps at a small cost in accuracy."
        ),
    )
    n = len(data.y)
    rows: dict[float, list[dict[str, float]]] = {}
    for strength in budget["lambdas"]:
        for s in range(budget["seeds"]):
            generator = torch.Generator().manual_seed(options.seed * 1000 + s)
            order = torch.randperm(n, generator=generator)
            train, test = order[: int(0.7 * n)], order[int(0.7 * n) :]
            model, _ = fit_grad(
                data, train, strength, hidden=budget["hidden"], epochs=budget["epochs"], seed=s
            )
            with torch.no_grad():
                prediction = model(data.x[test]).squeeze(1) > 0
                z_train, z_test = model[0](data.x[train]), model[0](data.x[test])
            result = fairness_gaps(prediction, data.y[test], data.a[test])
            result["probe_accuracy"] = _adversary_probe(z_train, data.a[train], z_test, data.a[test])
            result["majority"] = float(max(data.a[test].float().mean(), 1 - data.a[test].float().mean()))
            rows.setdefault(strength, []).append(result)
    for strength, results in rows.items():
        mean = {k: float(np.mean([r[k] for r in results])) for k in results[0]}
        se = {k: float(np.std([r[k] for r in results], ddof=1) / np.sqrt(len(results))) for k in results[0]}
        table.add(
            reversal_lambda=strength,
            seeds=len(results),
            accuracy=mean["accuracy"],
            accuracy_se=se["accuracy"],
            dp_gap=mean["dp_gap"],
            dp_gap_se=se["dp_gap"],
            eo_gap=mean["eo_gap"],
            eo_gap_se=se["eo_gap"],
            probe_accuracy=mean["probe_accuracy"],
            majority=mean["majority"],
        )
    options.publish(table)
    figure = new_figure(5, 3.6)
    axis = figure.add_subplot(1, 1, 1)
    lambdas = [row["reversal_lambda"] for row in table.rows]
    for key in ("accuracy", "dp_gap", "eo_gap", "probe_accuracy"):
        axis.plot(lambdas, [row[key] for row in table.rows], "o-", label=key)
    axis.set(xlabel="reversal lambda", xscale="symlog", title="GRAD on WHAS500 (protected: gender)")
    axis.legend(fontsize=7)
    save_figure(figure, Path(options.out) / "grad.png")
    return [table]
