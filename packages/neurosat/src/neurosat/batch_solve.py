"""Batch decoding: every DIMACS file of a folder through one loaded model, one result file each.

The formulas are batched by node count as in evaluation, decoded after every round, and each
file ``<name>.cnf`` gets ``<out>/<name>.sol`` in the SAT-competition output format
(``s SATISFIABLE`` + ``v ... 0``, or ``s UNKNOWN``), written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from core.files import atomic_write
from neurosat.cnf import evaluate, read_dimacs, to_solution
from neurosat.dataset import cnf_files
from neurosat.decode import decode
from neurosat.graph import batch_problems, batches_by_nodes
from neurosat.model import NeuroSAT

__all__ = ["solve_folder", "solve_many"]


@torch.no_grad()
def solve_many(
    model: NeuroSAT,
    problems: list,
    *,
    rounds: int | None = None,
    max_nodes: int = 12_000,
    device: torch.device | str = "cpu",
) -> list[list[int] | None]:
    """A verified assignment (or None) per problem, decoding after every round up to `rounds`.

    Same answers as calling `neurosat.solve` on each problem (the batch is a disjoint graph, and
    a problem's first verified assignment is kept), with one model load and batched rounds.
    """
    from neurosat.evaluation import _check_rounds

    _check_rounds(rounds)
    model.eval().to(device)
    found: list[list[int] | None] = [None] * len(problems)
    for group in batches_by_nodes(problems, max_nodes):
        batch = batch_problems([problems[i] for i in group]).to(device)
        for state in model.states(batch, rounds):
            result = decode(batch, state.literal_h, model.votes(state.literal_h))
            for local, index in enumerate(group):
                candidate = result.models[local]
                if found[index] is None and candidate is not None and evaluate(problems[index], candidate):
                    found[index] = candidate
            if all(found[i] is not None for i in group):
                break
    return found


def solve_folder(
    model: NeuroSAT,
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    rounds: int | None = None,
    device: torch.device | str = "cpu",
) -> dict[str, int]:
    """Solve every ``*.cnf`` of `folder` (natural order); write ``<out>/<stem>.sol`` for each.

    All files are parsed before anything is written, so a malformed file stops the run with one
    line naming it and leaves no result behind. Returns ``{"files": N, "sat": decoded}``.

    Raises:
        InputError: missing/empty folder, a malformed DIMACS file, `rounds` < 1.
    """
    files = cnf_files(folder)
    problems = [read_dimacs(path) for path in files]
    answers = solve_many(model, problems, rounds=rounds, device=device)
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    for path, answer in zip(files, answers):
        text = f"c {path.name}\n" + to_solution(answer)
        atomic_write(target / f"{path.stem}.sol", lambda tmp, text=text: tmp.write_text(text))
    return {"files": len(files), "sat": sum(answer is not None for answer in answers)}
