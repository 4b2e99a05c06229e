"""Floating-point operations of NeuroSAT's forward pass and of one training step, counted from shapes.

Counts the multiply-adds of the dense layers (2 FLOPs each) and of the two sparse products per
round (2 per edge and embedding dimension); element-wise work (layer norms, gates, ReLUs) is left
out, so the count is a lower bound dominated by the matrix products. A training step is counted as
forward + backward = 3 x forward (the backward of a product costs two products: input and weight
gradients). The forward count equals `torch.utils.flop_counter.FlopCounterMode`'s on the dense
layers (tested).
"""

from __future__ import annotations

from neurosat.config import NeuroSATConfig

__all__ = ["forward_flops", "train_step_flops"]


def forward_flops(
    config: NeuroSATConfig, n_literals: int, n_clauses: int, n_edges: int, rounds: int | None = None
) -> dict[str, int]:
    """FLOPs of one forward pass on a batch of ``L`` literals, ``C`` clauses and ``E`` edges.

    Returns ``{"dense": ..., "sparse": ..., "total": ...}``: dense layers (message MLPs, LSTM
    gates, vote MLP) and the sparse products ``A^T M`` and ``A M`` (``2 E d`` each per round).
    """
    d, layers = config.d, config.mlp_layers
    rounds = config.rounds if rounds is None else rounds
    mlp = 2 * (layers + 1) * d * d  # per row: `layers` hidden d x d layers and the d x d output layer
    per_round = (
        mlp * (n_literals + n_clauses)  # L_msg on literals, C_msg on clauses
        + 2 * n_clauses * (2 * d) * (4 * d)  # clause LSTM: [x, h] (2d) -> 4 gates
        + 2 * n_literals * (3 * d) * (4 * d)  # literal LSTM: [x, flip, h] (3d) -> 4 gates
    )
    vote = (2 * layers * d * d + 2 * d) * n_literals  # L_vote after the last round
    dense = rounds * per_round + vote
    sparse = rounds * 2 * (2 * n_edges * d)
    return {"dense": dense, "sparse": sparse, "total": dense + sparse}


def train_step_flops(
    config: NeuroSATConfig, n_literals: int, n_clauses: int, n_edges: int, rounds: int | None = None
) -> int:
    """FLOPs of one training step (forward + backward = 3 x forward) on the given batch size."""
    return 3 * forward_flops(config, n_literals, n_clauses, n_edges, rounds)["total"]
