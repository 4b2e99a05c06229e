"""Evaluation: predicted-SAT share, accuracy and AUC, decoded assignments, per round; `solve` for one formula."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.errors import InputError
from core.progress import progress
from neurosat.cnf import Problem, evaluate, problem_from_cnf, read_dimacs
from neurosat.decode import decode, satisfied
from neurosat.graph import batch_problems, batches_by_nodes
from neurosat.model import NeuroSAT

if TYPE_CHECKING:
    from pysat.formula import CNF

__all__ = [
    "RoundCurves",
    "accuracy",
    "evaluation_report",
    "predict_proba",
    "random_assignment_baseline",
    "roc_auc",
    "round_curves",
    "solve",
]


def accuracy(probabilities: np.ndarray, labels: Sequence[bool]) -> float:
    """Fraction of formulas whose thresholded probability (> 0.5 means SAT) matches the label."""
    predicted = np.asarray(probabilities) > 0.5
    return float(np.mean(predicted == np.asarray(labels, dtype=bool)))


@torch.no_grad()
def predict_proba(
    model: NeuroSAT,
    problems: Sequence[Problem],
    *,
    rounds: int | None = None,
    max_nodes: int = 12_000,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """P(SAT) of every formula after `rounds` rounds: (N,) float in [0, 1]."""
    _check_rounds(rounds)
    model.eval().to(device)
    out = np.empty(len(problems))
    for group in batches_by_nodes(problems, max_nodes):
        batch = batch_problems([problems[i] for i in group]).to(device)
        out[group] = torch.sigmoid(model(batch, rounds)).cpu().numpy()
    return out


@dataclass(frozen=True)
class RoundCurves:
    """Metrics after each round ``t = 1..T`` on labelled, one-class or unlabelled problems.

    Attributes:
        rounds: (T,) round numbers.
        predicted_sat: (T,) share of formulas whose mean vote at round t says SAT.
        accuracy: (T,) classification accuracy at round t; None when the problems are unlabelled.
        auc: (T,) area under the ROC curve of the round-t logit (threshold-free); None unless
            the problems are labelled with both classes.
        decoded: (T,) share of the reference formulas with a verified assignment decoded at round t.
        decoded_by: (T,) share of the reference formulas solved at any round <= t (the paper's
            protocol: decode after every round, stop at the first verified assignment).
        decoded_of: what the decoded shares are over: ``"SAT formulas"`` when the problems are
            labelled and some are SAT, else ``"all formulas"`` (for an all-UNSAT folder it must be 0).
        solved_sat: (N,) bool per formula, a verified assignment found at some round.
        solved_round: (N,) int, first round that decoded a verified assignment (0: none).
        seconds: wall time of the whole evaluation (message passing and decoding), seconds.
    """

    rounds: np.ndarray
    predicted_sat: np.ndarray
    accuracy: np.ndarray | None
    auc: np.ndarray | None
    decoded: np.ndarray
    decoded_by: np.ndarray
    decoded_of: str
    solved_sat: np.ndarray
    solved_round: np.ndarray
    seconds: float


def _labels(problems: Sequence[Problem]) -> np.ndarray | None:
    """(N,) bool labels, None when no problem is labelled; a partly labelled set is refused."""
    known = [p.is_sat is not None for p in problems]
    if not any(known):
        return None
    if not all(known):
        first = known.index(False)
        raise InputError(
            "problems are only partly labelled (label every problem or none)",
            item=f"problem {first} ({problems[first].name})",
        )
    return np.array([bool(p.is_sat) for p in problems])


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > that of a random negative), ties 1/2.

    The Mann-Whitney U statistic from mid-ranks; (N,) scores, (N,) bool labels with both classes.
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise InputError("AUC needs both SAT and UNSAT problems", item=f"{n_pos} SAT, {n_neg} UNSAT")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # mid-ranks (1-based) for tied scores
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _check_rounds(rounds: int | None) -> None:
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1):
        raise InputError("rounds must be a positive integer", item=repr(rounds))


@torch.no_grad()
def round_curves(
    model: NeuroSAT,
    problems: Sequence[Problem],
    rounds: int,
    *,
    max_nodes: int = 12_000,
    device: torch.device | str = "cpu",
    methods: tuple[str, ...] = ("2-means", "vote"),
    show_progress: bool = False,
) -> RoundCurves:
    """Predicted-SAT share, accuracy and AUC (when labelled) and decoding after each of `rounds` rounds.

    Takes unlabelled, one-class (all SAT or all UNSAT) and labelled problems alike; see `RoundCurves`.

    Raises:
        InputError: no problems, `rounds` < 1, or problems that are only partly labelled.
    """
    if not problems:
        raise InputError("no problems to evaluate", item="problems")
    _check_rounds(rounds)
    labels = _labels(problems)
    start = time.perf_counter()
    model.eval().to(device)
    logits_at = np.zeros((rounds, len(problems)))
    decoded = np.zeros((rounds, len(problems)), dtype=bool)
    groups = batches_by_nodes(problems, max_nodes)
    for group in progress(groups, desc="evaluate", disable=not show_progress):
        batch = batch_problems([problems[i] for i in group]).to(device)
        for state in model.states(batch, rounds):
            votes = model.votes(state.literal_h)
            logits_at[state.round - 1, group] = model.mean_vote(votes, batch).cpu().numpy()
            decoded[state.round - 1, group] = decode(
                batch, state.literal_h, votes, methods=methods
            ).solved.cpu()
    decoded_by = np.logical_or.accumulate(decoded, axis=0)
    reference = labels if labels is not None and labels.any() else np.ones(len(problems), dtype=bool)
    first = np.where(decoded_by[-1], decoded_by.argmax(axis=0) + 1, 0)
    both = labels is not None and labels.any() and not labels.all()
    return RoundCurves(
        rounds=np.arange(1, rounds + 1),
        predicted_sat=(logits_at > 0).mean(axis=1),
        accuracy=None if labels is None else ((logits_at > 0) == labels).mean(axis=1),
        auc=np.array([roc_auc(row, labels) for row in logits_at]) if both else None,
        decoded=decoded[:, reference].sum(axis=1) / reference.sum(),
        decoded_by=decoded_by[:, reference].sum(axis=1) / reference.sum(),
        decoded_of="SAT formulas" if reference is labels else "all formulas",
        solved_sat=decoded_by[-1],
        solved_round=first,
        seconds=time.perf_counter() - start,
    )


def evaluation_report(
    model: NeuroSAT,
    problems: Sequence[Problem],
    rounds: int | Sequence[int],
    *,
    device: torch.device | str = "cpu",
) -> list[str]:
    """One summary line per requested round count, from one `round_curves` pass to the largest.

    This is what ``neurosat evaluate`` prints: predicted-SAT share, accuracy and AUC when labelled,
    decoded share (decoding after every round up to that count), median first decoding round and
    time per formula.
    """
    wanted = sorted({rounds} if isinstance(rounds, int) else set(rounds))
    if not wanted:
        raise InputError("no round count to report", item="rounds")
    curves = round_curves(model, problems, wanted[-1], device=device)
    labels = _labels(problems)
    kind = "unlabelled" if labels is None else f"{int(labels.sum())} SAT / {int((~labels).sum())} UNSAT"
    lines = []
    for t in wanted:
        i = t - 1
        parts = [
            f"{len(problems)} problems ({kind}), {t} rounds",
            f"predicted SAT {curves.predicted_sat[i]:.3f}",
        ]
        if curves.accuracy is not None:
            parts.append(f"accuracy {curves.accuracy[i]:.3f}")
        if curves.auc is not None:
            parts.append(f"AUC {curves.auc[i]:.3f}")
        parts.append(f"decoded {curves.decoded_by[i]:.3f} of {curves.decoded_of}")
        first = curves.solved_round[(curves.solved_round > 0) & (curves.solved_round <= t)]
        if first.size:
            parts.append(f"median first decoding round {float(np.median(first)):g}")
        lines.append(", ".join(parts))
    lines.append(f"{wanted[-1]} rounds took {curves.seconds / len(problems) * 1000:.1f} ms per formula")
    return lines


@torch.no_grad()
def solve(
    formula: CNF | Problem | str | os.PathLike[str],
    model: NeuroSAT,
    *,
    rounds: int | None = None,
    device: torch.device | str = "cpu",
    methods: tuple[str, ...] = ("2-means", "vote"),
) -> list[int] | None:
    """Look for a satisfying assignment by running NeuroSAT and decoding after every round.

    Args:
        formula: a PySAT `CNF`, a `Problem`, or the path of a DIMACS file (read by `read_dimacs`,
            which accepts SATLIB's ``%`` trailer and checks the header).
        rounds: rounds to run (default: the model's training rounds); more rounds help larger formulas.

    Returns:
        A PySAT-style model (signed literals ``±1..±n``) verified to satisfy every clause, or None
        when no round decoded one (which does not prove the formula UNSAT).

    Raises:
        InputError: `rounds` < 1, an unreadable file, or an object that is no formula.
    """
    _check_rounds(rounds)
    if isinstance(formula, str | os.PathLike):
        problem = read_dimacs(formula)
    elif isinstance(formula, Problem):
        problem = formula
    else:
        problem = problem_from_cnf(formula)
    model.eval().to(device)
    batch = batch_problems([problem]).to(device)
    for state in model.states(batch, rounds):
        result = decode(batch, state.literal_h, model.votes(state.literal_h), methods=methods)
        assignment = result.models[0]
        if assignment is not None and evaluate(problem, assignment):
            return assignment
    return None


def random_assignment_baseline(
    problems: Sequence[Problem], tries: int, *, seed: int = 0, max_nodes: int = 12_000
) -> float:
    """Share of the SAT formulas among `problems` that one of `tries` uniform random assignments satisfies.

    The chance level for decoding: NeuroSAT's decoders check ``4 T`` candidate assignments per
    formula over ``T`` rounds (2 decoders x 2 maps), so compare with ``tries = 4 T``.
    """
    sat = [p for p in problems if p.is_sat]
    if not sat:
        raise InputError("no SAT problem to solve", item="problems")
    generator = torch.Generator().manual_seed(seed)
    solved = 0
    for group in batches_by_nodes(sat, max_nodes):
        batch = batch_problems([sat[i] for i in group])
        hit = torch.zeros(batch.n_problems, dtype=torch.bool)
        for _ in range(tries):
            hit |= satisfied(batch, torch.rand(batch.n_literals // 2, generator=generator) < 0.5)
        solved += int(hit.sum())
    return solved / len(sat)
