"""Tree decoder of JT-VAE (Jin et al. 2018, Sec. 2.3): depth-first generation of a junction tree.

At each step the decoder sits at node ``i``: a topological head predicts whether to expand a new
child (``p_t = sigma(u^d . relu(U [x_i, sum_k h_ki, z_T]))``, Eq. 9) or backtrack; on expansion a
label head predicts the child's cluster from the new message (``q_j = softmax(U^l relu(W [h_ij, z_T]))``,
Eq. 10). Messages ``h_ij`` come from the tree GRU over the messages already sent into ``i``.
Training uses teacher forcing and is batched across trees step by step; decoding masks labels
that cannot be attached (valence slots and an attachment enumeration), the paper's feasibility check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from molgraph.assembly import attachment_feasible, slots_compatible
from molgraph.chem import kekule_mol, set_atom_map
from molgraph.encoders import TreeGRU
from molgraph.tree import TreeNode
from molgraph.vocab import Vocab

__all__ = ["TreeDecoder"]


class TreeDecoder(nn.Module):
    """Teacher-forced losses and feasibility-masked decoding of junction trees.

    Args:
        embedding: cluster embedding (shared with the tree encoder), ``(V, H)``.
        hidden: width H; latent: width of ``z_T``.
    """

    def __init__(self, embedding: nn.Embedding, hidden: int, latent: int) -> None:
        super().__init__()
        self.embedding = embedding
        self.hidden = hidden
        self.gru = TreeGRU(hidden)
        self.w_label = nn.Linear(hidden + latent, hidden)
        self.out_label = nn.Linear(hidden, embedding.num_embeddings)
        self.w_stop = nn.Linear(2 * hidden + latent, hidden)
        self.out_stop = nn.Linear(hidden, 1)

    def label_logits(self, h: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.out_label(torch.relu(self.w_label(torch.cat([h, z], dim=1))))

    def stop_logits(self, x: torch.Tensor, o: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.out_stop(torch.relu(self.w_stop(torch.cat([x, o, z], dim=1)))).squeeze(1)

    def loss(
        self, wids: Sequence[Sequence[int]], traces: Sequence[Sequence[tuple[int, int, int]]], z: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Label and topology losses (summed over steps, averaged over trees) and accuracies.

        Args:
            wids: cluster indices of each tree's nodes (node 0 = root).
            traces: `dfs_trace` of each tree.
            z: ``(n_trees, L_T)`` tree latents.
        """
        device = z.device
        offsets, total = [], 0
        for w in wids:
            offsets.append(total)
            total += len(w)
        wid_all = torch.tensor([i for w in wids for i in w], dtype=torch.long, device=device)
        x_all = self.embedding(wid_all)
        steps, root_into = _teacher_schedule(offsets, traces, device)

        label_h = [x_all.new_zeros(len(wids), self.hidden)]
        label_tree = [torch.arange(len(wids), device=device)]
        label_target = [wid_all[torch.tensor(offsets, dtype=torch.long, device=device)]]
        stop_x, stop_o, stop_tree, stop_target = [], [], [], []
        bank = x_all.new_zeros(1, self.hidden)  # row 0: the zero message used as padding
        for step in steps:
            x = x_all[step.src]
            new = self.gru.padded(x, bank[step.nei])
            stop_x.append(x)
            stop_o.append(bank[step.into].sum(dim=1))
            stop_tree.append(step.tree)
            stop_target.append(step.expand)
            label_h.append(new[step.label_rows])
            label_tree.append(step.tree[step.label_rows])
            label_target.append(wid_all[step.dst[step.label_rows]])
            bank = torch.cat([bank, new])
        # the root finally decides to stop
        stop_x.append(x_all[torch.tensor(offsets, device=device)])
        stop_o.append(bank[root_into].sum(dim=1))
        stop_tree.append(torch.arange(len(wids), device=device))
        stop_target.append(torch.zeros(len(wids), device=device))

        lh, lt, ly = torch.cat(label_h), torch.cat(label_tree), torch.cat(label_target)
        sx, so, st, sy = torch.cat(stop_x), torch.cat(stop_o), torch.cat(stop_tree), torch.cat(stop_target)
        label_logits = self.label_logits(lh, z[lt])
        stop_logits = self.stop_logits(sx, so, z[st])
        n = len(wids)
        return {
            "label_loss": F.cross_entropy(label_logits, ly, reduction="sum") / n,
            "topo_loss": F.binary_cross_entropy_with_logits(stop_logits, sy, reduction="sum") / n,
            "label_acc": (label_logits.argmax(1) == ly).float().mean().detach(),
            "topo_acc": ((stop_logits > 0).float() == sy).float().mean().detach(),
        }

    @torch.no_grad()
    def decode(
        self,
        z: torch.Tensor,
        vocab: Vocab,
        *,
        greedy: bool = True,
        generator: torch.Generator | None = None,
        max_nodes: int = 100,
        top_k: int = 5,
    ) -> list[TreeNode]:
        """Decode one tree from ``z (1, L_T)``; nodes are returned root first with ``nid``/``is_leaf`` set.

        Labels are tried in order of probability (greedy) or sampled without replacement; a label is
        accepted only when its atoms fit the parent's free valence slots and an attachment to the
        parent and its current neighbours exists. If none of the `top_k` fits, the decoder backtracks.
        """
        zero = z.new_zeros(self.hidden)
        root_logits = self.label_logits(z.new_zeros(1, self.hidden), z)[0]
        root_wid = int(_order(root_logits, greedy, generator, 1)[0])
        nodes = [_new_node(vocab, root_wid)]
        slots = [[*vocab.slots[root_wid]]]
        x_vec = [self.embedding.weight[root_wid]]
        messages: dict[tuple[int, int], torch.Tensor] = {}
        into: defaultdict[int, list[int]] = defaultdict(list)
        stack = [0]
        while stack:
            i = stack[-1]
            expand = False
            if len(nodes) < max_nodes:
                o = _sum([messages[(k, i)] for k in into[i]], zero)
                p = torch.sigmoid(self.stop_logits(x_vec[i][None], o[None], z))[0]
                expand = bool(p > 0.5) if greedy else float(torch.rand((), generator=generator)) < float(p)
            if expand:
                h_nei = _pad([[messages[(k, i)] for k in into[i]]], zero)
                new = self.gru.padded(x_vec[i][None], h_nei)
                logits = self.label_logits(new, z)[0]
                chosen = None
                for wid in _order(logits, greedy, generator, top_k).tolist():
                    parent_slots = [*slots[i]]
                    child_slots = [*vocab.slots[wid]]
                    if not slots_compatible(parent_slots, child_slots):
                        continue
                    if not attachment_feasible(nodes[i], vocab[wid]):
                        continue
                    chosen = (wid, parent_slots, child_slots)
                    break
                if chosen is None:
                    expand = False
                else:
                    wid, slots[i], child_slots = chosen
                    j = len(nodes)
                    child = _new_node(vocab, wid)
                    child.neighbors.append(nodes[i])
                    nodes[i].neighbors.append(child)
                    nodes.append(child)
                    slots.append(child_slots)
                    x_vec.append(self.embedding.weight[wid])
                    messages[(i, j)] = new[0]
                    into[j].append(i)
                    stack.append(j)
            if not expand:
                stack.pop()
                if stack:
                    parent = stack[-1]
                    h_nei = _pad([[messages[(k, i)] for k in into[i] if k != parent]], zero)
                    messages[(i, parent)] = self.gru.padded(x_vec[i][None], h_nei)[0]
                    into[parent].append(i)
        for index, node in enumerate(nodes):
            node.nid = index + 1
            node.is_leaf = len(node.neighbors) == 1
            set_atom_map(node.mol, node.nid if len(node.neighbors) > 1 else 0)
        return nodes


@dataclass
class _Step:
    """One teacher-forced step over all trees still running: integer indices only.

    ``nei``/``into`` index the message bank (row 0 = zero padding): messages into the source node
    except from the destination (GRU input), and all messages into the source (stop head input).
    """

    src: torch.Tensor
    dst: torch.Tensor
    tree: torch.Tensor
    expand: torch.Tensor
    nei: torch.Tensor
    into: torch.Tensor
    label_rows: torch.Tensor


def _padded_ids(groups: list[list[int]], device: torch.device) -> torch.Tensor:
    width = max(1, max((len(g) for g in groups), default=1))
    return torch.tensor([g + [0] * (width - len(g)) for g in groups], dtype=torch.long, device=device)


def _teacher_schedule(
    offsets: Sequence[int], traces: Sequence[Sequence[tuple[int, int, int]]], device: torch.device
) -> tuple[list[_Step], torch.Tensor]:
    """Precompute, in plain integers, which messages every step reads; message ids follow creation order."""
    into: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)  # node -> [(from node, message id)]
    next_id = 1
    steps = []
    for t in range(max((len(tr) for tr in traces), default=0)):
        active = [
            (b, offsets[b] + tr[t][0], offsets[b] + tr[t][1], tr[t][2])
            for b, tr in enumerate(traces)
            if t < len(tr)
        ]
        nei = [[m for k, m in into[gx] if k != gy] for _, gx, gy, _ in active]
        allin = [[m for _, m in into[gx]] for _, gx, _, _ in active]
        for i, (_, gx, gy, _) in enumerate(active):
            into[gy].append((gx, next_id + i))
        next_id += len(active)
        steps.append(
            _Step(
                src=torch.tensor([a[1] for a in active], device=device),
                dst=torch.tensor([a[2] for a in active], device=device),
                tree=torch.tensor([a[0] for a in active], device=device),
                expand=torch.tensor([float(a[3]) for a in active], device=device),
                nei=_padded_ids(nei, device),
                into=_padded_ids(allin, device),
                label_rows=torch.tensor(
                    [i for i, a in enumerate(active) if a[3] == 1], dtype=torch.long, device=device
                ),
            )
        )
    root_into = _padded_ids([[m for _, m in into[r]] for r in offsets], device)
    return steps, root_into


def _new_node(vocab: Vocab, wid: int) -> TreeNode:
    smiles = vocab[wid]
    mol = kekule_mol(smiles)
    if mol is None:
        raise ValueError(f"vocabulary cluster does not kekulise: {smiles}")
    return TreeNode(smiles=smiles, mol=mol, wid=wid)


def _order(logits: torch.Tensor, greedy: bool, generator: torch.Generator | None, k: int) -> torch.Tensor:
    k = min(k, logits.numel())
    logits = logits.detach().cpu()
    if greedy:
        return torch.topk(logits, k).indices
    probs = torch.softmax(logits, dim=0)
    return torch.multinomial(probs, k, replacement=False, generator=generator)


def _pad(groups: list[list[torch.Tensor]], zero: torch.Tensor) -> torch.Tensor:
    width = max(1, max((len(g) for g in groups), default=1))
    return torch.stack([torch.stack(g + [zero] * (width - len(g))) for g in groups])


def _sum(items: list[torch.Tensor], zero: torch.Tensor) -> torch.Tensor:
    return torch.stack(items).sum(0) if items else zero
