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
from molgraph.graphs import MolGraph, mol_graph
from molgraph.stereo import has_stereo, stereo_candidates
from molgraph.tree import JunctionTree, dfs_trace
from molgraph.vocab import Vocab

__all__ = ["Failure", "MoleculeSample", "PreparedSet", "build_vocab", "prepare", "prepare_one"]


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


@dataclass(frozen=True)
class Failure:
    """An input molecule that could not be used: its position in the input, its text, and why."""

    index: int
    smiles: str
    reason: str
    detail: str = ""


@dataclass
class PreparedSet:
    """Prepared molecules, the vocabulary used, and how many inputs were dropped and why.

    ``failures`` lists every dropped input (position, text, reason), so a caller that knows where
    the inputs came from can point at each bad line.
    """

    samples: list[MoleculeSample]
    vocab: Vocab
    dropped: Counter
    failures: list[Failure] = field(default_factory=list)

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
    tree = tree or vocab.tree(smiles)
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
    smiles: Iterable[str],
    vocab: Vocab | None = None,
    *,
    desc: str = "prepare",
    candidates: bool = True,
    workers: int = 1,
    merge_peri_fused: bool = False,
) -> PreparedSet:
    """Decompose and tensorise `smiles`; build the vocabulary from them when `vocab` is None.

    With ``candidates=False`` the attachment and stereo enumerations are skipped (for molecules only
    encoded or used as references, not trained on). ``workers > 1`` spreads the molecules over that
    many processes (joblib) in chunks of `CHUNK`; the result, order included, does not depend on it.

    Invalid SMILES, molecules with a cluster outside `vocab` and molecules whose ground truth cannot
    be enumerated are skipped and counted in ``PreparedSet.dropped``. `merge_peri_fused` chooses the
    decomposition of a vocabulary built here (`molgraph.tree.tree_decompose`); a given `vocab`
    brings its own.
    """
    if workers < 1:
        raise InputError("workers must be >= 1", item=workers)
    items = list(smiles)
    if vocab is None:
        vocab, _ = build_vocab(
            items, workers=workers, desc=f"{desc}: vocabulary", merge_peri_fused=merge_peri_fused
        )
    outcomes = _map_chunks(_prepare_chunk, items, (vocab, candidates), workers, f"{desc}: candidates")
    samples = [o for o in outcomes if isinstance(o, MoleculeSample)]
    failures = [Failure(i, items[i], *o) for i, o in enumerate(outcomes) if not isinstance(o, MoleculeSample)]
    return PreparedSet(samples, vocab, Counter(f.reason for f in failures), failures)


def build_vocab(
    smiles: Iterable[str], *, workers: int = 1, desc: str = "vocabulary", merge_peri_fused: bool = False
) -> tuple[Vocab, list[Failure]]:
    """The cluster vocabulary of `smiles`: decomposition only (no attachment enumeration).

    Every molecule that decomposes contributes its clusters, charged ones included; the inputs
    that do not (invalid SMILES, or a cluster RDKit cannot kekulise) are returned as failures.
    `merge_peri_fused` chooses the decomposition (`molgraph.tree.tree_decompose`).

    Returns:
        ``(vocab, failures)``.
    """
    if workers < 1:
        raise InputError("workers must be >= 1", item=workers)
    items = list(smiles)
    clusters = _map_chunks(_cluster_sets, items, (merge_peri_fused,), workers, desc)
    failures = [
        Failure(i, items[i], "invalid SMILES", found)
        for i, found in enumerate(clusters)
        if isinstance(found, str)
    ]
    vocab = Vocab.from_clusters(
        (c for found in clusters if not isinstance(found, str) for c in found),
        merge_peri_fused=merge_peri_fused,
    )
    return vocab, failures


CHUNK = 64
"""Molecules per parallel task of `prepare`."""


def _map_chunks(function, items: list[str], args: tuple, workers: int, desc: str) -> list:  # type: ignore[no-untyped-def]
    """``function(chunk, *args)`` over chunks of `items`, in order, with one progress tick per chunk."""
    pieces = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
    if workers == 1:
        results = (function(piece, *args) for piece in pieces)
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=workers, return_as="generator")(delayed(function)(p, *args) for p in pieces)
    out: list = []
    for result in progress(results, desc=desc, total=len(pieces)):
        out.extend(result)
    return out


def _cluster_sets(texts: list[str], merge_peri_fused: bool) -> list[set[str] | str]:
    """The cluster SMILES of each molecule, or RDKit's reason when it does not decompose."""
    out: list[set[str] | str] = []
    for text in texts:
        try:
            tree = JunctionTree(text, merge_peri_fused=merge_peri_fused)
            out.append({node.smiles for node in tree.nodes})
        except InputError as exc:
            out.append(str(exc))
    return out


def _prepare_chunk(
    texts: list[str], vocab: Vocab, candidates: bool
) -> list[MoleculeSample | tuple[str, str]]:
    """`prepare_one` of each molecule, or ``(reason, detail)`` when it is dropped."""
    out: list[MoleculeSample | tuple[str, str]] = []
    for text in texts:
        try:
            tree = vocab.tree(text)
        except InputError as exc:
            out.append(("invalid SMILES", str(exc)))
            continue
        try:
            vocab.assign(tree)
        except InputError as exc:
            out.append(("cluster not in vocabulary", str(exc)))
            continue
        try:
            out.append(prepare_one(tree.smiles, vocab, tree, candidates=candidates))
        except InputError as exc:
            out.append(("no ground-truth attachment", str(exc)))
    return out


def chunks(samples: Sequence[MoleculeSample], size: int) -> list[Sequence[MoleculeSample]]:
    """Consecutive batches of at most `size` samples."""
    return [samples[i : i + size] for i in range(0, len(samples), size)]
