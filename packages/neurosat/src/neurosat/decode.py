"""Assignment decoding from NeuroSAT's literal embeddings (Selsam et al., 2019, Section 6).

Two decoders, both batched over every formula of a `ProblemBatch`, both checked by evaluation:

* **2-means** (the paper's): split the ``2n`` literal embeddings into two clusters with centres
  ``Δ1, Δ2`` under the constraint that a literal and its negation fall in different clusters:
  variable ``i`` puts ``x_i`` in cluster 1 iff
  ``||x_i - Δ1||² + ||x̄_i - Δ2||² <= ||x_i - Δ2||² + ||x̄_i - Δ1||²``. Expanding the squares, this
  is ``u_i · w >= 0`` with ``u_i = x_i - x̄_i`` and ``w = Δ1 - Δ2``, and the centre update gives
  ``w = (1/n) Σ_i σ_i u_i`` with ``σ_i = ±1`` the side of variable ``i``. Lloyd's iterations thus
  run on ``w`` alone, started from the top principal direction of the ``u_i`` (power iteration).
  Both cluster-to-true maps (cluster 1 true, or cluster 2 true) are tried.
* **vote sign**: ``x_i`` true iff its vote exceeds that of ``x̄_i`` (and the complement map).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from neurosat.graph import ProblemBatch

__all__ = [
    "DecodeResult",
    "cluster_sides",
    "decode",
    "satisfied",
    "variable_index",
]


def variable_index(batch: ProblemBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """For each literal row: its global variable index (V = L/2 in all) and whether it is negated."""
    rows = torch.arange(batch.n_literals, device=batch.flip.device)
    local = rows - batch.lit_offset[batch.lit_problem]
    n = batch.n_vars[batch.lit_problem]
    negated = local >= n
    var = batch.lit_offset[batch.lit_problem] // 2 + torch.where(negated, local - n, local)
    return var, negated


def satisfied(batch: ProblemBatch, assignment: torch.Tensor) -> torch.Tensor:
    """Which formulas the assignment satisfies.

    Args:
        assignment: (V,) bool, truth value of every variable of the batch (problem ``b``'s
            variables are entries ``lit_offset[b]/2 .. lit_offset[b]/2 + n_b - 1``).

    Returns:
        (B,) bool.
    """
    var, negated = variable_index(batch)
    literal_true = assignment[var] ^ negated
    true_in_clause = torch.zeros(batch.n_clauses, device=assignment.device, dtype=torch.long)
    true_in_clause.index_add_(0, batch.edge_clause, literal_true[batch.edge_lit].long())
    unsat_clauses = torch.zeros(batch.n_problems, device=assignment.device, dtype=torch.long)
    unsat_clauses.index_add_(0, batch.clause_problem, (true_in_clause == 0).long())
    return unsat_clauses == 0


def _positive_rows(batch: ProblemBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Literal rows of ``x_i`` and ``x̄_i`` for every global variable, in variable order; (V,) each."""
    var, negated = variable_index(batch)
    rows = torch.arange(batch.n_literals, device=var.device)
    pos = torch.empty(batch.n_literals // 2, dtype=torch.long, device=var.device)
    pos[var[~negated]] = rows[~negated]
    return pos, batch.flip[pos]


def cluster_sides(
    batch: ProblemBatch, literal_h: torch.Tensor, *, iterations: int = 20, power_steps: int = 10
) -> torch.Tensor:
    """Paired 2-means of the literal embeddings: (L, d) -> (V,) bool, True where ``x_i`` is in cluster 1.

    See the module docstring for the criterion (paper Section 6) and why it reduces to signs of
    ``u_i · w``. Ties (``u_i · w = 0``) go to cluster 1.
    """
    pos, neg = _positive_rows(batch)
    u = (literal_h[pos] - literal_h[neg]).detach().double()
    problem = batch.lit_problem[pos]
    n_problems = batch.n_problems

    def per_problem_sum(values: torch.Tensor) -> torch.Tensor:
        return values.new_zeros(n_problems, values.shape[1]).index_add_(0, problem, values)

    # Start: first variable of each problem, then power iteration towards the top principal axis.
    w = u[batch.lit_offset // 2].clone()
    for _ in range(power_steps):
        projection = (u * w[problem]).sum(1, keepdim=True)
        w = per_problem_sum(u * projection)
        w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sides = (u * w[problem]).sum(1) >= 0
    for _ in range(iterations):
        sign = sides.double().mul(2).sub(1).unsqueeze(1)
        w = per_problem_sum(u * sign)
        new_sides = (u * w[problem]).sum(1) >= 0
        if torch.equal(new_sides, sides):
            break
        sides = new_sides
    return sides


@dataclass(frozen=True)
class DecodeResult:
    """Decoding of a batch.

    Attributes:
        solved: (B,) bool, a verified satisfying assignment was found.
        models: per formula, the PySAT-style model (signed literals ``±1..±n``) or None.
        method: per formula, which decoder/map solved it (``"2-means"``, ``"vote"``) or "".
    """

    solved: torch.Tensor
    models: list[list[int] | None]
    method: list[str]


def decode(
    batch: ProblemBatch,
    literal_h: torch.Tensor,
    votes: torch.Tensor | None = None,
    *,
    methods: tuple[str, ...] = ("2-means", "vote"),
) -> DecodeResult:
    """Decode assignments for every formula and keep those that evaluation verifies.

    Args:
        literal_h: (L, d) final literal embeddings ``L^T``.
        votes: (L,) literal votes, needed for the ``"vote"`` method.
        methods: decoders to try, in order; each contributes two candidate maps.

    Raises:
        ValueError: unknown method, or ``"vote"`` requested without `votes`.
    """
    pos, neg = _positive_rows(batch)
    candidates: list[tuple[str, torch.Tensor]] = []
    for method in methods:
        if method == "2-means":
            sides = cluster_sides(batch, literal_h)
        elif method == "vote":
            if votes is None:
                raise ValueError("vote decoding needs the literal votes")
            sides = votes[pos] > votes[neg]
        else:
            raise ValueError(f"unknown decoding method {method!r}; use '2-means' or 'vote'")
        candidates += [(method, sides), (method, ~sides)]
    solved = torch.zeros(batch.n_problems, dtype=torch.bool, device=literal_h.device)
    chosen = torch.zeros(batch.n_literals // 2, dtype=torch.bool, device=literal_h.device)
    method_of = [""] * batch.n_problems
    var_problem = batch.lit_problem[pos]
    for method, assignment in candidates:
        ok = satisfied(batch, assignment) & ~solved
        take = ok[var_problem]
        chosen = torch.where(take, assignment, chosen)
        for b in torch.nonzero(ok).flatten().tolist():
            method_of[b] = method
        solved |= ok
    models: list[list[int] | None] = []
    chosen_cpu = chosen.cpu()
    n_vars = batch.n_vars.tolist()
    starts = (batch.lit_offset // 2).tolist()
    for b, ok in enumerate(solved.tolist()):
        if not ok:
            models.append(None)
            continue
        values = chosen_cpu[starts[b] : starts[b] + n_vars[b]].tolist()
        models.append([(i + 1) if value else -(i + 1) for i, value in enumerate(values)])
    return DecodeResult(solved=solved, models=models, method=method_of)
