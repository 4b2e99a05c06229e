"""Molecules prepared for training: junction tree, vocabulary indices, traversal, graphs, candidates.

Preparation runs RDKit once per molecule (decomposition, ground-truth attachment, every candidate
attachment), so training epochs only concatenate tensors. Molecules that cannot be used are
dropped and counted by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rdkit import Chem

from core.errors import InputError
from core.progress import progress
from molgraph.decoder import dfs_trace
from molgraph.features import MolGraph, mol_graph
from molgraph.stereo import has_stereo, stereo_candidates
from molgraph.tree import JunctionTree
from molgraph.vocab import Vocab

__all__ = ["MoleculeSample", "PreparedSet", "prepare", "prepare_one"]


@dataclass
class MoleculeSample:
    """One training molecule.

    Attributes:
        smiles: canonical isomeric SMILES (stereo kept where the input gives it).
        wids: ``(n_nodes,)`` cluster indices, root first.
        edges: junction-tree edges between node positions.
        trace: depth-first ``(from, to, expand)`` steps of the tree decoder.
        graph: the molecular graph (aromatic form, with its stereo features).
        assembly: per non-leaf node with several candidates: (node position, candidate graphs with
            atom-map numbers = node ids, index of the ground-truth candidate).
        stereo: when the input has stereo and its isomer is among the stereo candidates
            (`molgraph.stereo.stereo_candidates`): their graphs and the index of the input's isomer;
            trains the stereo choice made after decoding. None otherwise.
    """

    smiles: str
    wids: list[int]
    edges: list[tuple[int, int]]
    trace: list[tuple[int, int, int]]
    graph: MolGraph
    assembly: list[tuple[int, list[MolGraph], int]] = field(default_factory=list)
    stereo: tuple[list[MolGraph], int] | None = None


@dataclass
class PreparedSet:
    """Prepared molecules, the vocabulary used, and how many inputs were dropped and why."""

    samples: list[MoleculeSample]
    vocab: Vocab
    dropped: Counter

    def report(self) -> str:
        kept = len(self.samples)
        total = kept + sum(self.dropped.values())
        reasons = ", ".join(f"{n} {why}" for why, n in self.dropped.most_common()) or "none"
        return f"kept {kept} of {total} molecules; dropped: {reasons}"


def prepare_one(
    smiles: str, vocab: Vocab, tree: JunctionTree | None = None, *, candidates: bool = True
) -> MoleculeSample:
    """Prepare one molecule; raises `InputError` naming the SMILES for invalid input, an unknown
    cluster, or a molecule whose ground-truth attachment is not among the enumerated candidates.

    With ``candidates=False`` the attachment and stereo enumerations are skipped (enough for encoding).
    """
    tree = tree or JunctionTree(smiles)
    vocab.assign(tree)
    if candidates:
        tree.set_labels()
    assembly = []
    for position, node in enumerate(tree.nodes):
        if node.is_leaf or not candidates:
            continue
        if node.label not in node.candidates:
            raise InputError("ground-truth attachment not among enumerated candidates", item=tree.smiles)
        if len(node.candidates) < 2:
            continue
        graphs = [mol_graph(Chem.MolFromSmiles(c)) for c in node.candidates]
        assembly.append((position, graphs, node.candidates.index(node.label)))
    stereo = None
    if candidates and has_stereo(tree.smiles):
        isomers = stereo_candidates(tree.smiles2d)
        if tree.smiles in isomers:
            stereo = ([mol_graph(Chem.MolFromSmiles(c)) for c in isomers], isomers.index(tree.smiles))
    edges = tree.edges
    return MoleculeSample(
        smiles=tree.smiles,
        wids=[node.wid for node in tree.nodes],
        edges=edges,
        trace=dfs_trace(len(tree), edges),
        graph=mol_graph(Chem.MolFromSmiles(tree.smiles)),
        assembly=assembly,
        stereo=stereo,
    )


def prepare(
    smiles: Iterable[str], vocab: Vocab | None = None, *, desc: str = "prepare", candidates: bool = True
) -> PreparedSet:
    """Decompose and tensorise `smiles`; build the vocabulary from them when `vocab` is None.

    With ``candidates=False`` the attachment and stereo enumerations are skipped (for molecules only
    encoded or used as references, not trained on).

    Invalid SMILES, molecules with a cluster outside `vocab` and molecules whose ground truth cannot
    be enumerated are skipped and counted in ``PreparedSet.dropped``.
    """
    items = list(smiles)
    dropped: Counter = Counter()
    trees: list[JunctionTree] = []
    for text in progress(items, desc=f"{desc}: decompose"):
        try:
            trees.append(JunctionTree(text))
        except InputError:
            dropped["invalid SMILES"] += 1
    if vocab is None:
        vocab = Vocab.from_trees(trees)
    samples = []
    for tree in progress(trees, desc=f"{desc}: candidates"):
        try:
            samples.append(prepare_one(tree.smiles, vocab, tree, candidates=candidates))
        except InputError as exc:
            reason = "cluster not in vocabulary" if "vocabulary" in str(exc) else "no ground-truth attachment"
            dropped[reason] += 1
    return PreparedSet(samples, vocab, dropped)


def chunks(samples: Sequence[MoleculeSample], size: int) -> list[Sequence[MoleculeSample]]:
    """Consecutive batches of at most `size` samples."""
    return [samples[i : i + size] for i in range(0, len(samples), size)]
