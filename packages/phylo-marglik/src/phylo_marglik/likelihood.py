"""Batched Felsenstein pruning on compressed site patterns, with per-node rescaling.

Felsenstein (1981): the partial likelihood of node ``v`` for state ``i`` at a pattern is
``L_v(i) = prod_{c in children(v)} sum_j P_c(i, j) L_c(j)``; the pattern's likelihood is
``sum_c w_c sum_i pi_i L_root(i)`` over rate categories ``c``. All internal nodes of one tree
level are computed in one tensor op, and a leading batch dimension runs through every op, so
one pass evaluates a (batch, branches) tensor of branch-length vectors. After each node the
partials are divided by their maximum over states and categories and the log of that factor
is accumulated, so 50+ taxa never underflow. Everything is differentiable (autograd).
"""

from __future__ import annotations

import torch

from core.errors import InputError
from phylo_marglik.alignment import SitePatterns
from phylo_marglik.substitution import JC69, SubstitutionModel
from phylo_marglik.tree import Topology

__all__ = ["TreeLikelihood"]


class TreeLikelihood:
    """Log-likelihood of a fixed topology as a function of its branch lengths.

    Args:
        topology: the unrooted binary tree (its taxa must equal the patterns' taxa as a set).
        patterns: compressed alignment.
        model: substitution model (default JC69, the study's).

    Attributes:
        evaluations: number of branch-length vectors evaluated so far (batch rows counted).

    Raises:
        InputError: if tree and alignment taxa differ.
    """

    def __init__(
        self, topology: Topology, patterns: SitePatterns, model: SubstitutionModel | None = None
    ) -> None:
        if set(topology.taxa) != set(patterns.taxa):
            missing = sorted(set(topology.taxa) ^ set(patterns.taxa))[:5]
            raise InputError(
                "tree and alignment taxa do not match", item=f"taxa in only one of them: {missing}"
            )
        self.topology = topology
        self.patterns = patterns.subset(topology.taxa)
        self.model = model if model is not None else JC69()
        self.evaluations = 0
        n = topology.n_taxa
        self._plan = [_split_children(children.reshape(-1), n) for _, children in topology.levels]
        self._root_plan = _split_children(topology.root_children, n)

    @property
    def n_branches(self) -> int:
        return self.topology.n_branches

    def pattern_log_likelihood(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """Per-pattern log-likelihoods.

        Args:
            branch_lengths: (B, 2n-3) or (2n-3,) non-negative lengths (substitutions per site),
                indexed by node as in `Topology`.

        Returns:
            (B, n_patterns) (or (n_patterns,)) log-likelihood of one column of each pattern.

        Raises:
            InputError: wrong number of branches, or negative / non-finite lengths.
        """
        single = branch_lengths.dim() == 1
        lengths = branch_lengths[None] if single else branch_lengths
        self._check(lengths)
        self.evaluations += lengths.shape[0]
        topo = self.topology
        n = topo.n_taxa
        probs = self.model.transition_matrices(lengths)  # (B, E, C, 4, 4)
        batch, _, cats = probs.shape[:3]
        # Patterns last: each message is a (4, 4) @ (4, P) product, the fast layout for BLAS.
        # Tip partials carry no batch dimension; internal partials are stored from index 0.
        tips = self.patterns.tip_partials.to(lengths).transpose(1, 2)  # (n, 4, P)
        n_pat = tips.shape[-1]
        partials = lengths.new_empty(batch, topo.n_nodes - 1 - n, cats, 4, n_pat)
        log_scale = lengths.new_zeros(batch, n_pat)
        for (nodes, children), (tip_pos, tip_ids, in_pos, in_ids) in zip(topo.levels, self._plan):
            messages = self._messages(
                probs, partials, tips, children.numel(), tip_pos, tip_ids, in_pos, in_ids
            )
            messages = messages.reshape(batch, -1, 2, cats, 4, n_pat)
            node_partials = messages[:, :, 0] * messages[:, :, 1]  # (B, L, C, 4, P)
            scale = node_partials.amax(dim=(2, 3), keepdim=True).clamp_min(1e-300)
            partials[:, nodes - n] = node_partials / scale
            log_scale = log_scale + scale.log().sum(dim=1)[:, 0, 0]
        tip_pos, tip_ids, in_pos, in_ids = self._root_plan
        messages = self._messages(probs, partials, tips, 3, tip_pos, tip_ids, in_pos, in_ids)
        root = messages.prod(dim=1)  # (B, C, 4, P)
        freqs = self.model.frequencies.to(lengths)
        weights = self.model.category_weights.to(lengths)
        site = torch.einsum("bcip,i,c->bp", root, freqs, weights)
        result = site.clamp_min(1e-300).log() + log_scale
        return result[0] if single else result

    def log_likelihood(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """Tree log-likelihood: (B, 2n-3) -> (B,) (or (2n-3,) -> scalar), summed over sites."""
        per_pattern = self.pattern_log_likelihood(branch_lengths)
        return per_pattern @ self.patterns.weights.to(per_pattern)

    @staticmethod
    def _messages(
        probs: torch.Tensor,
        partials: torch.Tensor,
        tips: torch.Tensor,
        count: int,
        tip_pos: torch.Tensor,
        tip_ids: torch.Tensor,
        in_pos: torch.Tensor,
        in_ids: torch.Tensor,
    ) -> torch.Tensor:
        """``P_c @ L_c`` for `count` children: (B, count, C, 4, P)."""
        batch, cats, n_pat = probs.shape[0], probs.shape[2], partials.shape[-1]
        if tip_pos.numel() == count:
            return _tip_messages(probs[:, tip_ids], tips[tip_ids])
        if in_pos.numel() == count:
            return probs[:, in_ids] @ partials[:, in_ids - tips.shape[0]]
        out = probs.new_empty(batch, count, cats, 4, n_pat)
        out[:, tip_pos] = _tip_messages(probs[:, tip_ids], tips[tip_ids])
        out[:, in_pos] = probs[:, in_ids] @ partials[:, in_ids - tips.shape[0]]
        return out

    def _check(self, lengths: torch.Tensor) -> None:
        if lengths.dim() != 2 or lengths.shape[1] != self.n_branches:
            raise InputError(
                "branch lengths have the wrong shape",
                item=tuple(lengths.shape),
                expected=f"(batch, {self.n_branches}) for {self.topology.n_taxa} taxa",
            )
        if not lengths.is_floating_point():
            raise InputError("branch lengths must be floating point", item=lengths.dtype)
        bad = ~torch.isfinite(lengths) | (lengths < 0)
        if bad.any():
            row, branch = (int(v) for v in bad.nonzero()[0])
            raise InputError(
                "branch lengths must be finite and non-negative",
                item=f"row {row}, branch {branch}: {float(lengths[row, branch])}",
            )


def _split_children(children: torch.Tensor, n_taxa: int) -> tuple[torch.Tensor, ...]:
    """Positions and node ids of tip children and internal children in a flat child list."""
    is_tip = children < n_taxa
    positions = torch.arange(children.numel())
    return positions[is_tip], children[is_tip], positions[~is_tip], children[~is_tip]


def _tip_messages(probs: torch.Tensor, tips: torch.Tensor) -> torch.Tensor:
    """(B, k, C, 4, 4) matrices times (k, 4, P) batch-free tip partials -> (B, k, C, 4, P),
    one matrix product per tip (the tips are never copied along the batch)."""
    return torch.einsum("bkcij,kjp->bkcip", probs, tips)
