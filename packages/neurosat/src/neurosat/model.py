"""The NeuroSAT network (Selsam et al., 2019, Section 3).

Each round updates clause then literal embeddings on the literal-clause graph:

    C^t, C_h^t = C_u([C_h^{t-1}, A^T L_msg(L^{t-1})])                 (eq. 1)
    L^t, L_h^t = L_u([L_h^{t-1}, A C_msg(C^t), flip(L^{t-1})])        (eq. 2)

with ``L_msg``, ``C_msg`` 3-hidden-layer ReLU MLPs and ``C_u``, ``L_u`` layer-normalised LSTM cells
(as in the authors' implementation). After ``T`` rounds every literal casts a vote
``L_vote(L^T)`` and the logit of a formula is the mean vote over its ``2n`` literals.
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from core.checkpoint import load_checkpoint, load_state_into, save_checkpoint
from core.errors import InputError
from neurosat.config import NeuroSATConfig
from neurosat.graph import ProblemBatch

__all__ = ["LayerNormLSTMCell", "NeuroSAT", "NeuroSATConfig", "NeuroSATState", "checkpoint_config_type"]


def checkpoint_config_type(path: Path) -> str:
    """The ``config_type`` recorded in a safetensors checkpoint's header ('' when unreadable).

    Reads only the JSON header (8-byte length + JSON), so a model file and a training checkpoint
    can be told apart before loading; a damaged file is left for `load_checkpoint` to report.
    """
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if not 0 < size < 100_000_000:
                return ""
            header = json.loads(handle.read(size))
        return str(header.get("__metadata__", {}).get("config_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _mlp(d_in: int, d_hidden: int, d_out: int, layers: int) -> nn.Sequential:
    modules: list[nn.Module] = []
    width = d_in
    for _ in range(layers):
        modules += [nn.Linear(width, d_hidden), nn.ReLU()]
        width = d_hidden
    modules.append(nn.Linear(width, d_out))
    return nn.Sequential(*modules)


class LayerNormLSTMCell(nn.Module):
    """An LSTM cell with layer normalisation of each gate's pre-activation and of the cell state.

    Shapes: ``x`` (N, d_in), ``h``, ``c`` (N, d) -> ``(h', c')`` each (N, d). Forget-gate bias 1.
    """

    def __init__(self, d_in: int, d: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.d = d
        self.linear = nn.Linear(d_in + d, 4 * d, bias=not layer_norm)
        self.gate_norms = nn.ModuleList([nn.LayerNorm(d) if layer_norm else nn.Identity() for _ in range(4)])
        self.cell_norm = nn.LayerNorm(d) if layer_norm else nn.Identity()

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gates = self.linear(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        i, g, f, o = (norm(gate) for norm, gate in zip(self.gate_norms, gates))
        c_new = self.cell_norm(torch.sigmoid(f + 1.0) * c + torch.sigmoid(i) * torch.tanh(g))
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        return h_new, c_new


@dataclass(frozen=True)
class NeuroSATState:
    """Embeddings after a round: ``literal_h`` (L, d) is ``L^t``, ``clause_h`` (C, d) is ``C^t``."""

    round: int
    literal_h: torch.Tensor
    clause_h: torch.Tensor


class NeuroSAT(nn.Module):
    """NeuroSAT classifier; ``model(batch)`` returns one logit per formula, (B,)."""

    def __init__(
        self, config: NeuroSATConfig | None = None, *, generator: torch.Generator | None = None
    ) -> None:
        """Build the network (default: the paper's `NeuroSATConfig()`); `generator` (CPU) draws the
        initial weights (None: torch's global RNG)."""
        super().__init__()
        config = NeuroSATConfig() if config is None else config
        self.config = config
        d = config.d
        self.literal_init = nn.Parameter(torch.randn(d, generator=generator))
        self.clause_init = nn.Parameter(torch.randn(d, generator=generator))
        self.literal_msg = _mlp(d, d, d, config.mlp_layers)
        self.clause_msg = _mlp(d, d, d, config.mlp_layers)
        self.clause_update = LayerNormLSTMCell(d, d, config.layer_norm)
        self.literal_update = LayerNormLSTMCell(2 * d, d, config.layer_norm)
        self.literal_vote = _mlp(d, d, 1, config.mlp_layers)
        for module in self.modules():
            if isinstance(module, nn.Linear):  # Glorot-uniform weights, zero biases (TensorFlow's defaults)
                nn.init.xavier_uniform_(module.weight, generator=generator)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def states(self, batch: ProblemBatch, rounds: int | None = None) -> Iterator[NeuroSATState]:
        """Run `rounds` rounds (default ``config.rounds``), yielding the embeddings after each."""
        rounds = self.config.rounds if rounds is None else rounds
        d = self.config.d
        scale = 1.0 / math.sqrt(d)
        lit_h = (self.literal_init * scale).expand(batch.n_literals, d)
        cls_h = (self.clause_init * scale).expand(batch.n_clauses, d)
        lit_c = lit_h.new_zeros(batch.n_literals, d)
        cls_c = lit_h.new_zeros(batch.n_clauses, d)
        adj, adj_t = batch.adj.to(lit_h.dtype), batch.adj_t.to(lit_h.dtype)
        for t in range(1, rounds + 1):
            to_clauses = torch.sparse.mm(adj_t, self.literal_msg(lit_h))
            cls_h, cls_c = self.clause_update(to_clauses, cls_h, cls_c)
            to_literals = torch.sparse.mm(adj, self.clause_msg(cls_h))
            lit_h, lit_c = self.literal_update(
                torch.cat([to_literals, lit_h[batch.flip]], dim=1), lit_h, lit_c
            )
            yield NeuroSATState(t, lit_h, cls_h)

    def votes(self, literal_h: torch.Tensor) -> torch.Tensor:
        """Per-literal votes ``L_vote(L^t)``: (L, d) -> (L,)."""
        return self.literal_vote(literal_h).squeeze(-1)

    @staticmethod
    def mean_vote(votes: torch.Tensor, batch: ProblemBatch) -> torch.Tensor:
        """Mean of the literal votes of each formula: (L,) -> (B,) logits."""
        total = votes.new_zeros(batch.n_problems).index_add_(0, batch.lit_problem, votes)
        return total / (2 * batch.n_vars).to(votes.dtype)

    def forward(self, batch: ProblemBatch, rounds: int | None = None) -> torch.Tensor:
        """Logits (B,) of P(SAT) after `rounds` rounds."""
        final = deque(self.states(batch, rounds), maxlen=1)
        if not final:
            raise ValueError("rounds must be >= 1")
        return self.mean_vote(self.votes(final[0].literal_h), batch)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write weights and config to a safetensors checkpoint."""
        return save_checkpoint(path, self.state_dict(), self.config)

    @classmethod
    def load(cls, path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> NeuroSAT:
        """Rebuild a model saved by `save`, or the model of a training checkpoint written by `fit`.

        Raises:
            InputError: the file is missing, damaged, holds non-finite weights, or its tensors do
                not match its config (one line naming the file and the tensor).
        """
        source = Path(path)
        kind = checkpoint_config_type(source)
        if kind.endswith(".TrainingRun"):
            from neurosat.config import TrainingRun

            run = load_checkpoint(source, TrainingRun, map_location=map_location)
            config, state = run.config.model, run.state.get("model")
        else:
            saved = load_checkpoint(source, NeuroSATConfig, map_location=map_location)
            config, state = saved.config, saved.state
        if not isinstance(state, dict):
            raise InputError("checkpoint holds no model weights", item=str(source))
        model = cls(config)
        load_state_into(model, state, source=source)
        return model

    def describe(self) -> dict[str, object]:
        return {**asdict(self.config), "parameters": sum(p.numel() for p in self.parameters())}
