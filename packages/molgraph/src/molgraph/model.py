"""The Junction Tree VAE (Jin et al. 2018): encoders, latent heads, tree decoder, graph decoder.

Loss (Eq. 3, 11, 13): ``label CE + topology BCE + assembly CE + stereo CE + beta * KL(q(z|G,T) || N(0, I))``
with ``z = [z_T, z_G]``, each half ``latent / 2`` wide; the stereo term (as in the authors'
release) is a cross-entropy over the stereo candidates of the molecules given with stereo, scored
as in decoding (`JTVAE.stereo_scores`), and is zero for a batch without stereo.

Decoding builds the stereo-free molecule (tree decoder, then graph decoder), then chooses its
stereo: among the stereo candidates of `molgraph.stereo.stereo_candidates` (the unassigned form and
at most ``max_stereoisomers`` enumerated isomers) the one whose graph-encoder mean
``graph_mean(GraphEncoder(G))`` is closest to ``z_G`` (squared Euclidean distance). The authors'
release scores stereoisomers by cosine similarity instead; near the encoding of the input the
cosine changes only to second order and float32 noise can then outweigh the stereo difference,
which the distance (first order) does not suffer from.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem
from torch import nn

from core.checkpoint import load_checkpoint, save_checkpoint
from core.errors import InputError
from molgraph.assembly import Candidate, assemble_tree
from molgraph.batching import batch_graphs, batch_trees
from molgraph.config import JTVAEConfig
from molgraph.dataset import MoleculeSample, prepare_one
from molgraph.decoder import TreeDecoder
from molgraph.encoders import CandidateEncoder, GraphEncoder, TreeContext, TreeEncoder
from molgraph.graphs import mol_graph
from molgraph.stereo import stereo_candidates
from molgraph.tree import TreeNode
from molgraph.vocab import Vocab

__all__ = ["JTVAE", "JTVAEConfig"]


class JTVAE(nn.Module):
    """Junction Tree VAE over a fixed cluster vocabulary.

    Args:
        vocab: the cluster vocabulary (saved with the model).
        config: sizes (`JTVAEConfig`; None: the paper's).
        seed: initial weights drawn from this seed inside ``torch.random.fork_rng`` (torch's
            layers take no generator), leaving the caller's random state as it was; None draws
            them from torch's global state as any ``nn.Module`` does.
    """

    def __init__(self, vocab: Vocab, config: JTVAEConfig | None = None, *, seed: int | None = None) -> None:
        super().__init__()
        config = config if config is not None else JTVAEConfig()
        self.vocab = vocab
        self.config = config
        if seed is None:
            self._build(vocab, config)
            return
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self._build(vocab, config)

    def _build(self, vocab: Vocab, config: JTVAEConfig) -> None:
        h, half = config.hidden, config.latent // 2
        self.embedding = nn.Embedding(len(vocab), h)
        self.tree_encoder = TreeEncoder(self.embedding, h, config.depth_tree)
        self.graph_encoder = GraphEncoder(h, config.depth_graph)
        self.tree_decoder = TreeDecoder(self.embedding, h, half)
        self.candidate_encoder = CandidateEncoder(h, config.depth_graph, half, config.scorer)
        self.tree_mean = nn.Linear(h, half)
        self.tree_logvar = nn.Linear(h, half)
        self.graph_mean = nn.Linear(h, half)
        self.graph_logvar = nn.Linear(h, half)

    @property
    def device(self) -> torch.device:
        return self.embedding.weight.device

    # ----- encoding -------------------------------------------------------------------------
    def encode_samples(
        self, samples: Sequence[MoleculeSample]
    ) -> tuple[torch.Tensor, torch.Tensor, TreeContext]:
        """Posterior mean and log-variance ``(B, latent)`` each, and the tree encoder's `TreeContext`
        (node vectors ``(n_nodes, H)`` and edge messages)."""
        trees = batch_trees([s.wids for s in samples], [s.edges for s in samples]).to(self.device)
        graphs = batch_graphs([s.graph for s in samples]).to(self.device)
        tree_vec, tree_ctx = self.tree_encoder(trees)
        mol_vec = self.graph_encoder(graphs)
        mean = torch.cat([self.tree_mean(tree_vec), self.graph_mean(mol_vec)], dim=1)
        logvar = torch.cat(
            [-torch.abs(self.tree_logvar(tree_vec)), -torch.abs(self.graph_logvar(mol_vec))], dim=1
        )
        return mean, logvar, tree_ctx

    # ----- training loss --------------------------------------------------------------------
    def forward(
        self, samples: Sequence[MoleculeSample], beta: float, *, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Loss terms for a batch; ``loss`` is what to minimise.

        Args:
            samples: prepared molecules.
            beta: KL weight.
            generator: CPU generator of the reparameterisation noise (None: a fresh unseeded one,
                so no process-wide random state is read or advanced).
        """
        mean, logvar, tree_ctx = self.encode_samples(samples)
        generator = generator if generator is not None else torch.Generator(device="cpu")
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
        z = mean + noise * torch.exp(0.5 * logvar)
        kl = -0.5 * torch.sum(1.0 + logvar - mean.pow(2) - logvar.exp()) / len(samples)
        half = self.config.latent // 2
        z_tree, z_graph = z[:, :half], z[:, half:]
        out = self.tree_decoder.loss([s.wids for s in samples], [s.trace for s in samples], z_tree)
        assm_loss, assm_acc = self._assembly_loss(samples, tree_ctx, z_graph)
        stereo_loss, stereo_acc = self._stereo_loss(samples, z_graph)
        out["assm_loss"] = assm_loss
        out["assm_acc"] = assm_acc
        out["stereo_loss"] = stereo_loss
        out["stereo_acc"] = stereo_acc
        out["kl"] = kl
        out["loss"] = out["label_loss"] + out["topo_loss"] + assm_loss + stereo_loss + beta * kl
        return out

    def _assembly_loss(
        self, samples: Sequence[MoleculeSample], tree_ctx: TreeContext, z_graph: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        graphs, atom_node, group, cand_mol, labels, sizes = [], [], [], [], [], []
        offset = 0
        for b, sample in enumerate(samples):
            for _position, cands, label in sample.assembly:
                for g in cands:
                    graphs.append(g)
                    atom_node.append(np.where(g.atom_map > 0, g.atom_map.astype(np.int64) - 1 + offset, -1))
                    cand_mol.append(b)
                labels.append(label)
                sizes.append(len(cands))
                group.append(len(sizes) - 1)
            offset += len(sample.wids)
        if not graphs:
            zero = z_graph.sum() * 0.0
            return zero, torch.tensor(1.0)
        batch = batch_graphs(graphs).to(self.device)
        vectors = self.candidate_encoder(
            batch, tree_ctx, torch.from_numpy(np.concatenate(atom_node)).to(self.device)
        )
        scores = self.candidate_encoder.score(vectors, z_graph[torch.tensor(cand_mol, device=self.device)])
        return _grouped_cross_entropy(scores, sizes, labels, len(samples))

    def _stereo_loss(
        self, samples: Sequence[MoleculeSample], z_graph: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        graphs, owner, labels, sizes = [], [], [], []
        for b, sample in enumerate(samples):
            if sample.stereo is None:
                continue
            cands, label = sample.stereo
            graphs.extend(cands)
            owner.extend([b] * len(cands))
            labels.append(label)
            sizes.append(len(cands))
        if not graphs:
            return z_graph.sum() * 0.0, torch.tensor(1.0)
        means = self.graph_mean(self.graph_encoder(batch_graphs(graphs).to(self.device)))
        targets = z_graph[torch.tensor(owner, device=self.device)]
        scores = -(means - targets).pow(2).sum(dim=1)
        return _grouped_cross_entropy(scores, sizes, labels, len(samples))

    # ----- decoding -------------------------------------------------------------------------
    @torch.no_grad()
    def decode_latent(
        self, z: torch.Tensor, *, greedy: bool = True, generator: torch.Generator | None = None
    ) -> str | None:
        """SMILES decoded from one latent ``z (latent,)``; None when no tree assembles.

        The returned SMILES always sanitises in RDKit (assembly keeps only sanitisable molecules,
        stereo candidates are re-parsed by RDKit); its stereo is chosen by `choose_stereoisomer`.
        """
        half = self.config.latent // 2
        z = z.to(self.device).reshape(1, -1)
        nodes = self.tree_decoder.decode(
            z[:, :half], self.vocab, greedy=greedy, generator=generator, max_nodes=self.config.max_tree_nodes
        )
        if len(nodes) == 1:
            return self.choose_stereoisomer(Chem.MolFromSmiles(nodes[0].smiles), z[0, half:])
        trees = batch_trees([[n.wid for n in nodes]], [_edges(nodes)]).to(self.device)
        _, tree_ctx = self.tree_encoder(trees)
        z_graph = z[:, half:]

        def rank(node: TreeNode, candidates: list[Candidate]) -> list[int]:
            graphs = [mol_graph(Chem.MolFromSmiles(c.smiles)) for c in candidates]
            batch = batch_graphs(graphs).to(self.device)
            atom_node = (batch.atom_map - 1).clamp(min=-1)
            vectors = self.candidate_encoder(batch, tree_ctx, atom_node)
            scores = self.candidate_encoder.score(vectors, z_graph.expand(len(candidates), -1))
            scores = scores + torch.tensor([c.aroma for c in candidates], device=self.device)
            return torch.argsort(scores, descending=True).tolist()

        mol = assemble_tree(nodes, rank)
        return None if mol is None else self.choose_stereoisomer(mol, z[0, half:])

    @torch.no_grad()
    def stereo_scores(self, candidates: Sequence[str], z_graph: torch.Tensor) -> torch.Tensor:
        """Scores ``(n,)`` of SMILES against ``z_graph (latent / 2,)``: minus the squared distance
        between each one's graph-encoder mean ``graph_mean(GraphEncoder(G))`` and ``z_graph``."""
        graphs = [mol_graph(Chem.MolFromSmiles(c)) for c in candidates]
        batch = batch_graphs(graphs).to(self.device)
        means = self.graph_mean(self.graph_encoder(batch))
        return -(means - z_graph.to(self.device).reshape(1, -1)).pow(2).sum(dim=1)

    @torch.no_grad()
    def choose_stereoisomer(self, mol: Chem.Mol, z_graph: torch.Tensor) -> str:
        """Canonical isomeric SMILES of the stereo candidate of `mol` scoring highest against ``z_graph``.

        The candidates are the stereo-free form of `mol` and at most ``config.max_stereoisomers``
        enumerated stereoisomers (`molgraph.stereo.stereo_candidates`); with a single candidate it is
        returned unscored; ties go to the earlier candidate (the stereo-free form first).
        """
        candidates = stereo_candidates(mol, self.config.max_stereoisomers)
        if len(candidates) == 1:
            return candidates[0]
        scores = self.stereo_scores(candidates, z_graph)
        return candidates[int(torch.argmax(scores))]

    # ----- user API ----------------------------------------------------------------------------
    def encode(
        self, smiles: Sequence[str] | str, *, sample: bool = False, seed: int | None = None
    ) -> torch.Tensor:
        """Latent codes ``(n, latent)`` of SMILES (posterior means, or draws when `sample`).

        Raises:
            InputError: naming the SMILES when it is invalid or has a cluster outside the vocabulary.
        """
        items = [smiles] if isinstance(smiles, str) else list(smiles)
        if not items:
            raise InputError("no SMILES to encode")
        samples = [prepare_one(s, self.vocab, candidates=False) for s in items]
        self.eval()
        with torch.no_grad():
            mean, logvar, _ = self.encode_samples(samples)
        if not sample:
            return mean
        generator = torch.Generator(device="cpu")
        if seed is not None:
            generator.manual_seed(seed)
        noise = torch.randn(mean.shape, generator=generator).to(mean.device)
        return mean + noise * torch.exp(0.5 * logvar)

    def decode(
        self, z: torch.Tensor, *, greedy: bool = True, seed: int | None = None, retries: int = 0
    ) -> list[str | None]:
        """SMILES for each row of ``z (n, latent)`` (or one ``(latent,)`` vector).

        Every returned SMILES sanitises in RDKit; None marks a latent whose tree could not be
        assembled after `retries` further stochastic decodings.
        """
        if z.dim() == 1:
            z = z[None]
        if z.shape[1] != self.config.latent:
            raise InputError(
                "latent width does not match the model",
                item=tuple(z.shape),
                expected=f"(n, {self.config.latent})",
            )
        self.eval()
        generator = torch.Generator(device="cpu")
        generator.manual_seed(0 if seed is None else seed)
        out: list[str | None] = []
        for row in z:
            smiles = self.decode_latent(row, greedy=greedy, generator=generator)
            tries = retries
            while smiles is None and tries > 0:
                smiles = self.decode_latent(row, greedy=False, generator=generator)
                tries -= 1
            out.append(smiles)
        return out

    def reconstruct(self, smiles: Sequence[str] | str, *, seed: int | None = None) -> list[str | None]:
        """Encode (posterior mean) then decode greedily."""
        return self.decode(self.encode(smiles), seed=seed)

    def sample(self, n: int, *, seed: int = 0, greedy: bool = True) -> list[str | None]:
        """Decode `n` latents drawn from the prior ``N(0, I)``."""
        if n < 1:
            raise InputError("number of samples must be >= 1", item=n)
        generator = torch.Generator(device="cpu")
        generator.manual_seed(seed)
        z = torch.randn(n, self.config.latent, generator=generator)
        return self.decode(z, seed=seed, greedy=greedy)

    def interpolate(self, start: str, end: str, steps: int = 5) -> list[str | None]:
        """Decode `steps` evenly spaced points on the line between the two molecules' latent means."""
        if steps < 2:
            raise InputError("interpolation needs at least 2 steps", item=steps)
        z = self.encode([start, end])
        weights = torch.linspace(0.0, 1.0, steps, device=z.device)[:, None]
        return self.decode((1.0 - weights) * z[0] + weights * z[1])

    # ----- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, extra: dict | None = None) -> Path:
        """Weights, config and vocabulary in one safetensors checkpoint (atomic)."""
        info = {"vocab": self.vocab.to_json(), **(extra or {})}
        return save_checkpoint(path, {"model": self.state_dict()}, self.config, extra=info)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> JTVAE:
        """A model saved by `save` (raises `InputError` when the file is missing or not a checkpoint)."""
        ckpt = load_checkpoint(path, JTVAEConfig, map_location=device)
        if "vocab" not in ckpt.extra:
            raise InputError("checkpoint holds no vocabulary", item=str(path))
        model = cls(Vocab.from_json(ckpt.extra["vocab"], source=str(path)), ckpt.config)
        model.load_state_dict(ckpt.state["model"])
        return model.to(device)


def _edges(nodes: Sequence[TreeNode]) -> list[tuple[int, int]]:
    position = {id(n): i for i, n in enumerate(nodes)}
    return [
        (position[id(a)], position[id(b)])
        for a in nodes
        for b in a.neighbors
        if position[id(a)] < position[id(b)]
    ]


def _grouped_cross_entropy(
    scores: torch.Tensor, sizes: Sequence[int], labels: Sequence[int], n_samples: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy of choosing the right candidate in each group of candidates.

    Args:
        scores: (sum(sizes),) candidate scores, the groups laid end to end.
        sizes: number of candidates in each group.
        labels: index of the right candidate within each group.
        n_samples: molecules in the batch; the summed loss is divided by it.

    Returns:
        (loss, accuracy): the summed cross-entropy / n_samples, and the fraction of groups whose
        top-scoring candidate is the right one (detached).
    """
    device = scores.device
    padded = scores.new_full((len(sizes), max(sizes)), float("-inf"))
    row = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    col = torch.cat([torch.arange(n) for n in sizes])
    padded = padded.index_put((row.to(device), col.to(device)), scores)
    target = torch.tensor(labels, device=device)
    loss = F.cross_entropy(padded, target, reduction="sum") / n_samples
    accuracy = (padded.argmax(1) == target).float().mean().detach()
    return loss, accuracy
