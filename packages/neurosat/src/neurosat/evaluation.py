"""Evaluation: classification accuracy and decoded assignments, per round; `solve` for one formula."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from pysat.formula import CNF

from core.errors import InputError
from core.progress import progress
from neurosat.cnf import Problem, evaluate, problem_from_cnf
from neurosat.decode import decode, satisfied
from neurosat.graph import batch_problems, batches_by_nodes
from neurosat.model import NeuroSAT

__all__ = ["RoundCurves", "accuracy", "predict_proba", "random_assignment_baseline", "round_curves", "solve"]


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
    model.eval().to(device)
    out = np.empty(len(problems))
    for group in batches_by_nodes(problems, max_nodes):
        batch = batch_problems([problems[i] for i in group]).to(device)
        out[group] = torch.sigmoid(model(batch, rounds)).cpu().numpy()
    return out


@dataclass(frozen=True)
class RoundCurves:
    """Metrics after each round ``t = 1..T``.

    Attributes:
        rounds: (T,) round numbers.
        accuracy: (T,) classification accuracy of the mean vote at round t.
        decoded: (T,) fraction of SAT formulas with a verified assignment decoded at round t.
        decoded_by: (T,) fraction of SAT formulas solved at any round <= t (the paper's protocol:
            decode after every round, stop at the first verified assignment).
        solved_sat: (N,) bool per formula, solved at some round (False for UNSAT formulas).
    """

    rounds: np.ndarray
    accuracy: np.ndarray
    decoded: np.ndarray
    decoded_by: np.ndarray
    solved_sat: np.ndarray


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
    """Accuracy and decoding after each of `rounds` rounds on labelled `problems`.

    Raises:
        InputError: a problem without label, or no SAT problem to decode.
    """
    labels = np.array([p.is_sat for p in problems])
    if any(label is None for label in labels):
        raise InputError("round_curves needs labelled problems", item="problems")
    labels = labels.astype(bool)
    if not labels.any():
        raise InputError("no SAT problem among the evaluation problems", item="problems")
    model.eval().to(device)
    correct = np.zeros((rounds, len(problems)), dtype=bool)
    decoded = np.zeros((rounds, len(problems)), dtype=bool)
    groups = batches_by_nodes(problems, max_nodes)
    for group in progress(groups, desc="evaluate", disable=not show_progress):
        batch = batch_problems([problems[i] for i in group]).to(device)
        for state in model.states(batch, rounds):
            votes = model.votes(state.literal_h)
            logits = model.mean_vote(votes, batch)
            correct[state.round - 1, group] = ((logits > 0).cpu().numpy()) == labels[group]
            decoded[state.round - 1, group] = decode(
                batch, state.literal_h, votes, methods=methods
            ).solved.cpu()
    decoded_by = np.logical_or.accumulate(decoded, axis=0)
    n_sat = labels.sum()
    return RoundCurves(
        rounds=np.arange(1, rounds + 1),
        accuracy=correct.mean(axis=1),
        decoded=decoded[:, labels].sum(axis=1) / n_sat,
        decoded_by=decoded_by[:, labels].sum(axis=1) / n_sat,
        solved_sat=decoded_by[-1] & labels,
    )


@torch.no_grad()
def solve(
    formula: CNF | Problem,
    model: NeuroSAT,
    *,
    rounds: int | None = None,
    device: torch.device | str = "cpu",
    methods: tuple[str, ...] = ("2-means", "vote"),
) -> list[int] | None:
    """Look for a satisfying assignment by running NeuroSAT and decoding after every round.

    Args:
        formula: a PySAT `CNF` or a `Problem`.
        rounds: rounds to run (default: the model's training rounds); more rounds help larger formulas.

    Returns:
        A PySAT-style model (signed literals ``±1..±n``) verified to satisfy every clause, or None
        when no round decoded one (which does not prove the formula UNSAT).
    """
    problem = problem_from_cnf(formula) if isinstance(formula, CNF) else formula
    if not isinstance(problem, Problem):
        raise InputError("solve takes a pysat CNF or a neurosat Problem", item=type(formula).__name__)
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
