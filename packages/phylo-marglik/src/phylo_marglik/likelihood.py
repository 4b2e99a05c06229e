"""Batched Felsenstein pruning on compressed site patterns, with per-node rescaling.

Felsenstein (1981): the partial likelihood of node ``v`` for state ``i`` at a pattern is
``L_v(i) = prod_{c in children(v)} sum_j P_c(i, j) L_c(j)``; the pattern's likelihood is
``sum_c w_c sum_i pi_i L_root(i)`` over rate categories ``c``. All internal nodes of one tree
level are computed in one tensor op, and a leading batch dimension runs through every op, so
one pass evaluates a (batch, branches) tensor of branch-length vectors. After each node the
partials are divided by their maximum over states and categories and the log of that factor
is accumulated, so 50+ taxa never underflow. Everything is differentiable (autograd).

JC69 (the study's model) takes a closed-form path: its transition matrix has two distinct
entries, so ``P(t) @ L = a L + b sum_j L_j`` with ``a = exp(-4t/3)``, ``b = (1 - a) / 4``. Each
internal node's partial is divided by its sum over states (the rescaling factor), so the
message to its parent is just ``a L + b``; node partials live in one preallocated buffer laid
out level by level, and the log of every rescaling factor is taken once at the end. Other
models (GTR + Gamma) take the general matrix-product path.
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
        closed_form: use the closed-form JC69 messages when the model is `JC69` (default);
            False forces the general matrix path (for checks).

    Attributes:
        evaluations: number of branch-length vectors evaluated so far (batch rows counted).

    Raises:
        InputError: if tree and alignment taxa differ.
    """

    def __init__(
        self,
        topology: Topology,
        patterns: SitePatterns,
        model: SubstitutionModel | None = None,
        *,
        closed_form: bool = True,
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
        self.closed_form = closed_form and isinstance(self.model, JC69)
        self.cpu_chunk_bytes = 8 << 20
        # Constant inputs, converted once per dtype/device (see `_constants`).
        self._cache: dict[tuple[torch.dtype, torch.device], tuple[torch.Tensor, ...]] = {}
        # Closed-form plan: buffer slots are the tips, then internal nodes level by level, so
        # every level writes one contiguous slice. A node's internal child goes first; each
        # level's nodes are ordered (from the root down) as their parents read them, and tips
        # take slots in the order levels read them, so that a level's children are consecutive
        # runs (views, not gathers) where possible. Branch parameters and tip partials are
        # reordered to slots. Any order gives the same result up to rounding.
        pairs = {
            v: (b, a) if a < n <= b else (a, b)
            for nodes, children in topology.levels
            for v, (a, b) in zip(nodes.tolist(), children.tolist())
        }
        reader = {c: (len(topology.levels), 0, i) for i, c in enumerate(topology.root_children.tolist())}
        levels: list[list[int]] = [[] for _ in topology.levels]
        for index in reversed(range(len(topology.levels))):
            levels[index] = sorted(topology.levels[index][0].tolist(), key=reader.__getitem__)
            for position, v in enumerate(levels[index]):
                for side, child in enumerate(pairs[v]):
                    reader[child] = (index, side, position)
        tip_order = sorted(range(n), key=reader.__getitem__)
        order = tip_order + [v for nodes in levels for v in nodes]
        slot = {node: i for i, node in enumerate(order)}
        self._tip_order = torch.tensor(tip_order, dtype=torch.int64)
        self._slot_nodes = torch.tensor(order, dtype=torch.int64)
        self._levels: list[tuple[int, int, _Take, _Take]] = []
        start = n
        for nodes in levels:
            end = start + len(nodes)
            left = _Take([slot[pairs[v][0]] for v in nodes])
            right = _Take([slot[pairs[v][1]] for v in nodes])
            self._levels.append((start, end, left, right))
            start = end
        self._root_slots = [slot[c] for c in topology.root_children.tolist()]

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
        if self.closed_form:
            rows = self._chunk_rows(lengths)
            if lengths.shape[0] > rows:
                chunks = [self._jc69_pattern_log_likelihood(part) for part in lengths.split(rows)]
                result = torch.cat(chunks)
            else:
                result = self._jc69_pattern_log_likelihood(lengths)
            return result[0] if single else result
        topo = self.topology
        n = topo.n_taxa
        probs = self.model.transition_matrices(lengths)  # (B, E, C, 4, 4)
        batch, _, cats = probs.shape[:3]
        # Patterns last: each message is a (4, 4) @ (4, P) product, the fast layout for BLAS.
        # Tip partials carry no batch dimension; internal partials are stored from index 0.
        tips = self._constants(lengths)[0]  # (n, 4, P)
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
        freqs, weights = self._constants(lengths)[2:4]
        site = torch.einsum("bcip,i,c->bp", root, freqs, weights)
        result = site.clamp_min(1e-300).log() + log_scale
        return result[0] if single else result

    def log_likelihood(self, branch_lengths: torch.Tensor) -> torch.Tensor:
        """Tree log-likelihood: (B, 2n-3) -> (B,) (or (2n-3,) -> scalar), summed over sites."""
        per_pattern = self.pattern_log_likelihood(branch_lengths)
        return per_pattern @ self._constants(per_pattern)[1]

    def _constants(self, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Tip partials (n, 4, P), pattern weights (P,), model frequencies, category weights, and
        for the closed form the tip partials in slot order (n, 4, P) and their sums over states
        (n, 1, P); in `like`'s dtype and device, converted once and cached."""
        key = (like.dtype, like.device)
        if key not in self._cache:
            conv = {"dtype": like.dtype, "device": like.device}
            tips = self.patterns.tip_partials.to(**conv).transpose(1, 2).contiguous()
            slot_tips = tips[self._tip_order.to(like.device)]
            self._cache[key] = (
                tips,
                self.patterns.weights.to(**conv),
                self.model.frequencies.to(**conv),
                self.model.category_weights.to(**conv),
                slot_tips,
                slot_tips.sum(1, keepdim=True),
            )
        return self._cache[key]

    def _chunk_rows(self, lengths: torch.Tensor) -> int:
        """Batch rows per closed-form pass. On CPU the pass is memory-bound: rows are processed
        in chunks whose message buffer fits in `cpu_chunk_bytes` (default 8 MiB, inside a
        typical L3 cache; measured on DS2: 64 rows in chunks of 2-8 run ~3x faster than in one
        pass). Other devices take the whole batch at once."""
        if lengths.device.type != "cpu":
            return max(1, lengths.shape[0])
        row_bytes = (self.topology.n_nodes - 1) * 4 * self.patterns.n_patterns * lengths.element_size()
        return max(1, self.cpu_chunk_bytes // row_bytes)

    def _jc69_pattern_log_likelihood(self, lengths: torch.Tensor) -> torch.Tensor:
        """Closed-form JC69 pruning: (B, E) lengths -> (B, P) per-pattern log-likelihoods."""
        tips, tip_sums = self._constants(lengths)[4:]  # in slot order
        n, n_pat = tips.shape[0], tips.shape[-1]
        batch = lengths.shape[0]
        slots = self.topology.n_nodes - 1
        grad = torch.is_grad_enabled() and lengths.requires_grad
        decay = torch.exp(lengths * (-4.0 / 3.0))[:, self._slot_nodes, None, None]  # a, by slot
        diff = 0.25 - 0.25 * decay  # b = P_ij, i != j
        # Messages to the parent, by slot; tips: a L + b sum(L) (sum = 1 unless ambiguous).
        msgs = lengths.new_empty(batch, slots, 4, n_pat)
        # Rescaling factors of the internal nodes (their partials' sums over states).
        sums = lengths.new_empty(batch, slots - n, 1, n_pat)
        if grad:
            msgs = msgs.clone()
            msgs[:, :n] = torch.addcmul(diff[:, :n] * tip_sums, decay[:, :n], tips)
        else:
            torch.mul(decay[:, :n], tips, out=msgs[:, :n]).addcmul_(diff[:, :n], tip_sums)
        for start, end, left, right in self._levels:
            partial = left(msgs, grad) * right(msgs, grad)  # (B, L, 4, P)
            if grad:
                total = partial.sum(2, keepdim=True).clamp_min(1e-300)
                sums[:, start - n : end - n] = total
                msgs[:, start:end] = torch.addcmul(diff[:, start:end], decay[:, start:end] / total, partial)
            else:
                total = torch.sum(partial, 2, keepdim=True, out=sums[:, start - n : end - n])
                total.clamp_min_(1e-300)
                torch.addcmul(
                    diff[:, start:end], decay[:, start:end] / total, partial, out=msgs[:, start:end]
                )
        first, second, third = (msgs[:, i] for i in self._root_slots)
        site = (first * second * third).sum(1) * 0.25  # (B, P): equal frequencies
        log_scale = sums.log().sum((1, 2))
        return site.clamp_min(1e-300).log() + log_scale

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


class _Take:
    """Select child slots along dim 1: a view when they are consecutive (and no graph is being
    recorded: autograd must not save a view of the buffer that later levels write), else a
    gather."""

    def __init__(self, slots: list[int]) -> None:
        self.start = slots[0]
        self.count = len(slots)
        self.consecutive = slots == list(range(slots[0], slots[0] + len(slots)))
        self.index = {torch.device("cpu"): torch.tensor(slots, dtype=torch.int64)}

    def __call__(self, msgs: torch.Tensor, grad: bool) -> torch.Tensor:
        if self.consecutive and not grad:
            return msgs.narrow(1, self.start, self.count)
        if msgs.device not in self.index:  # index_select wants the index on msgs's device
            self.index[msgs.device] = self.index[torch.device("cpu")].to(msgs.device)
        return msgs.index_select(1, self.index[msgs.device])


def _split_children(children: torch.Tensor, n_taxa: int) -> tuple[torch.Tensor, ...]:
    """Positions and node ids of tip children and internal children in a flat child list."""
    is_tip = children < n_taxa
    positions = torch.arange(children.numel())
    return positions[is_tip], children[is_tip], positions[~is_tip], children[~is_tip]


def _tip_messages(probs: torch.Tensor, tips: torch.Tensor) -> torch.Tensor:
    """(B, k, C, 4, 4) matrices times (k, 4, P) batch-free tip partials -> (B, k, C, 4, P),
    one matrix product per tip (the tips are never copied along the batch)."""
    return torch.einsum("bkcij,kjp->bkcip", probs, tips)
