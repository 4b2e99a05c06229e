"""Encoders of JT-VAE (Jin et al. 2018, Sec. 2.2-2.3), batched over one disjoint graph.

* `GraphEncoder`: loopy belief-propagation style messages on directed bonds (Eq. 1-2),
  ``nu_uv = relu(W1 x_u + W2 x_uv + W3 sum_{w in N(u)\\v} nu_wu)``, atom vectors
  ``h_u = relu(U1 x_u + sum_v U2 nu_vu)``, molecule vector = mean of atom vectors.
* `TreeGRU`: the gated recurrent message of Eq. 4-7 on junction-tree edges,
  ``m_ij = GRU(x_i, {m_ki}_{k in N(i)\\j})``; used by the tree encoder (all edges at once, iterated)
  and by the tree decoder (one edge per tree per step).
* `TreeEncoder`: root vector ``h_root = relu(W_o [x_root, sum_k m_k,root])`` (Eq. 8).
* `CandidateEncoder`: the graph-decoder scorer's network, the `GraphEncoder` recipe on a candidate
  attachment, in one of two forms (``JTVAEConfig.scorer``): ``"cluster"`` extends each atom's
  input with the tree-encoder vector of the cluster it belongs to (recovered from the atom-map
  numbers); ``"messages"`` is the paper's Eq. 12: a bond (u, v) joining atoms of two different
  clusters i -> j also receives the tree message m_ij of the tree encoder, added to the bond
  messages arriving at v at every iteration.

Sums over neighbours minus the reverse edge are scatter-sums written with torch's own
``index_add`` (`scatter_sum`, `scatter_mean`); PyTorch Geometric is not needed for two reductions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from molgraph.batching import GraphBatch, TreeBatch
from molgraph.graphs import ATOM_DIM, BOND_DIM

__all__ = [
    "CandidateEncoder",
    "GraphEncoder",
    "TreeContext",
    "TreeEncoder",
    "TreeGRU",
    "scatter_mean",
    "scatter_sum",
]


def scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """``out[i] = sum of src[k] over k with index[k] == i``: ``src (E, H)``, ``index (E,)`` -> ``(size, H)``."""
    return src.new_zeros(size, src.shape[1]).index_add(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Mean of the rows of ``src (E, H)`` sharing an ``index (E,)`` value -> ``(size, H)`` (0 for none)."""
    counts = torch.bincount(index, minlength=size).clamp(min=1).to(src.dtype)
    return scatter_sum(src, index, size) / counts[:, None]


class GraphEncoder(nn.Module):
    """Molecular-graph encoder: `GraphBatch` -> ``(num_graphs, hidden)``.

    Args:
        hidden: message and output width (450 in the paper).
        depth: message-passing iterations (3 in the paper).
        extra: width of extra per-atom inputs appended to the atom features (0 for molecules).
    """

    def __init__(self, hidden: int, depth: int, extra: int = 0) -> None:
        super().__init__()
        self.depth = depth
        self.w_in = nn.Linear(ATOM_DIM + extra + BOND_DIM, hidden, bias=False)
        self.w_msg = nn.Linear(hidden, hidden, bias=False)
        self.w_out = nn.Linear(ATOM_DIM + extra + hidden, hidden)

    def forward(
        self, g: GraphBatch, atom_extra: torch.Tensor | None = None, atom_messages: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Graph vectors ``(num_graphs, hidden)``.

        Args:
            g: the batch.
            atom_extra: ``(n_atoms, extra)`` inputs appended to the atom features.
            atom_messages: ``(n_atoms, hidden)`` messages from outside the graph added to the bond
                messages arriving at each atom (the tree messages of Eq. 12).
        """
        x = g.x if atom_extra is None else torch.cat([g.x, atom_extra], dim=1)
        n = x.shape[0]
        base = self.w_in(torch.cat([x[g.src], g.bond], dim=1))
        msg = torch.relu(base)
        rev = g.rev
        outside = atom_messages if atom_messages is not None else 0.0
        for _ in range(self.depth - 1):
            into = scatter_sum(msg, g.dst, n) + outside
            msg = torch.relu(base + self.w_msg(into[g.src] - msg[rev]))
        into = scatter_sum(msg, g.dst, n) + outside
        atoms = torch.relu(self.w_out(torch.cat([x, into], dim=1)))
        return scatter_mean(atoms, g.graph, g.num_graphs)


class TreeGRU(nn.Module):
    """Tree message GRU (Eq. 4-7). Two entry points with the same parameters."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.w_z = nn.Linear(2 * hidden, hidden)
        self.w_r = nn.Linear(hidden, hidden, bias=False)
        self.u_r = nn.Linear(hidden, hidden)
        self.w_h = nn.Linear(2 * hidden, hidden)

    def padded(self, x: torch.Tensor, h_nei: torch.Tensor) -> torch.Tensor:
        """``x (B, H)`` source-node vectors, ``h_nei (B, K, H)`` incoming messages (zero-padded) -> ``(B, H)``."""
        s = h_nei.sum(dim=1)
        z = torch.sigmoid(self.w_z(torch.cat([x, s], dim=1)))
        r = torch.sigmoid(self.w_r(x).unsqueeze(1) + self.u_r(h_nei))
        gated = (r * h_nei).sum(dim=1)
        candidate = torch.tanh(self.w_h(torch.cat([x, gated], dim=1)))
        return (1.0 - z) * s + z * candidate

    def edges(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, msg: torch.Tensor) -> torch.Tensor:
        """One synchronous update of every directed edge's message.

        Args:
            x: ``(n_nodes, H)`` node vectors; src, dst: ``(E,)`` directed edges in reverse pairs.
            msg: ``(E, H)`` current messages.
        """
        n = x.shape[0]
        rev = torch.arange(src.numel(), device=src.device) ^ 1
        s = scatter_sum(msg, dst, n)[src] - msg[rev]
        x_src = x[src]
        z = torch.sigmoid(self.w_z(torch.cat([x_src, s], dim=1)))
        # gate of message k->i depends on the receiving node i (= src of the outgoing edge)
        gate = torch.sigmoid(self.w_r(x[dst]) + self.u_r(msg)) * msg
        gated = scatter_sum(gate, dst, n)[src] - gate[rev]
        candidate = torch.tanh(self.w_h(torch.cat([x_src, gated], dim=1)))
        return (1.0 - z) * s + z * candidate


class TreeEncoder(nn.Module):
    """Junction-tree encoder: `TreeBatch` -> root vectors ``(n_trees, H)`` and node vectors ``(n_nodes, H)``.

    Args:
        embedding: the cluster embedding shared with the tree decoder.
        hidden: width H; depth: message iterations (20 in the authors' release; must reach the tree diameter).
    """

    def __init__(self, embedding: nn.Embedding, hidden: int, depth: int) -> None:
        super().__init__()
        self.embedding = embedding
        self.depth = depth
        self.gru = TreeGRU(hidden)
        self.w_out = nn.Linear(2 * hidden, hidden)

    def forward(self, t: TreeBatch) -> tuple[torch.Tensor, TreeContext]:
        """Root vectors ``(n_trees, H)`` and the `TreeContext` (node vectors, edge messages)."""
        x = self.embedding(t.wid)
        msg = x.new_zeros(t.src.numel(), x.shape[1])
        if t.src.numel():
            for _ in range(self.depth):
                msg = self.gru.edges(x, t.src, t.dst, msg)
        into = scatter_sum(msg, t.dst, x.shape[0])
        nodes = torch.relu(self.w_out(torch.cat([x, into], dim=1)))
        return nodes[t.root], TreeContext(nodes, msg, t.src, t.dst)


@dataclass
class TreeContext:
    """What the graph decoder's scorer reads from the tree encoder: node vectors ``(n_nodes, H)``
    and the final message ``(E, H)`` of every directed tree edge ``src[e] -> dst[e]``."""

    nodes: torch.Tensor
    messages: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor

    def edge_messages(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``(k, H)``: the message of tree edge ``a[i] -> b[i]``, zero where there is no such edge."""
        n = self.nodes.shape[0]
        keys = self.src * n + self.dst
        order = torch.argsort(keys)
        wanted = a * n + b
        found = torch.searchsorted(keys[order], wanted).clamp(max=max(len(keys) - 1, 0))
        if not len(keys):
            return self.nodes.new_zeros(len(a), self.nodes.shape[1])
        index = order[found]
        hit = (keys[index] == wanted).to(self.messages.dtype)[:, None]
        return self.messages[index] * hit


class CandidateEncoder(nn.Module):
    """Scores candidate attachments (Eq. 12): ``f(G_i) . z_G`` with ``f`` a graph encoder on the
    candidate, informed by the tree encoder as ``scorer`` says (module docstring).

    Args:
        hidden: width H; depth: message iterations; latent: width of ``z_G``.
        scorer: ``"cluster"`` (cluster vectors as atom inputs) or ``"messages"`` (the paper's tree messages).
    """

    def __init__(self, hidden: int, depth: int, latent: int, scorer: str = "cluster") -> None:
        super().__init__()
        self.scorer = scorer
        self.encoder = GraphEncoder(hidden, depth, extra=hidden if scorer == "cluster" else 0)
        self.project = nn.Linear(latent, hidden, bias=False)

    def forward(self, g: GraphBatch, tree: TreeContext, atom_node: torch.Tensor) -> torch.Tensor:
        """Candidate vectors ``(n_candidates, H)``.

        Args:
            g: the candidates as one batch.
            tree: the tree encoder's node vectors and edge messages.
            atom_node: ``(n_atoms,)`` tree node of each atom (a row of ``tree.nodes``), -1 for none.
        """
        if self.scorer == "cluster":
            padded = torch.cat([tree.nodes.new_zeros(1, tree.nodes.shape[1]), tree.nodes])
            return self.encoder(g, padded[atom_node + 1])
        a, b = atom_node[g.src], atom_node[g.dst]
        crossing = (a >= 0) & (b >= 0) & (a != b)
        incoming = tree.edge_messages(a.clamp(min=0), b.clamp(min=0)) * crossing[:, None].to(tree.nodes.dtype)
        return self.encoder(g, atom_messages=scatter_sum(incoming, g.dst, g.x.shape[0]))

    def score(self, cand_vectors: torch.Tensor, z_graph: torch.Tensor) -> torch.Tensor:
        """``(n_candidates,)`` scores; `z_graph` ``(n_candidates, L_G)`` is each candidate's molecule latent."""
        return (cand_vectors * self.project(z_graph)).sum(dim=1)
