"""The cluster vocabulary: every distinct cluster SMILES seen in a training set (Jin et al. 2018, Sec. 2.1)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from core.errors import InputError
from core.files import atomic_write
from molgraph.assembly import atom_slots
from molgraph.chem import kekule_mol
from molgraph.tree import JunctionTree

__all__ = ["Vocab"]


class Vocab:
    """An ordered list of cluster SMILES (kekulé form) with index lookup.

    Args:
        clusters: the cluster SMILES, in index order (duplicates are rejected).

    Raises:
        InputError: for a duplicate or a SMILES that RDKit cannot kekulise.
    """

    def __init__(self, clusters: Iterable[str]) -> None:
        self.clusters: list[str] = list(clusters)
        self._index = {smiles: i for i, smiles in enumerate(self.clusters)}
        if len(self._index) != len(self.clusters):
            raise InputError("duplicate cluster in vocabulary", item=_first_duplicate(self.clusters))
        self.slots = []
        for smiles in self.clusters:
            mol = kekule_mol(smiles)
            if mol is None:
                raise InputError("vocabulary cluster does not kekulise", item=smiles)
            self.slots.append(atom_slots(mol))

    @classmethod
    def from_clusters(cls, clusters: Iterable[str]) -> Vocab:
        """Vocabulary of the distinct cluster SMILES in `clusters`, sorted for reproducibility."""
        return cls(sorted(set(clusters)))

    @classmethod
    def from_trees(cls, trees: Iterable[JunctionTree]) -> Vocab:
        """Vocabulary of every cluster in `trees`."""
        return cls.from_clusters(node.smiles for tree in trees for node in tree.nodes)

    @classmethod
    def from_smiles(cls, smiles: Iterable[str]) -> Vocab:
        """Vocabulary of every cluster of the (valid) molecules in `smiles`; invalid ones raise `InputError`."""
        return cls.from_trees(JunctionTree(s) for s in smiles)

    def __len__(self) -> int:
        return len(self.clusters)

    def __contains__(self, smiles: str) -> bool:
        return smiles in self._index

    def __getitem__(self, index: int) -> str:
        return self.clusters[index]

    def index(self, cluster: str, *, molecule: str | None = None) -> int:
        """Index of `cluster`; raises `InputError` naming the cluster (and molecule) when unknown."""
        try:
            return self._index[cluster]
        except KeyError:
            item = f"cluster {cluster}" + (f" of molecule {molecule}" if molecule else "")
            raise InputError(
                "cluster is not in the model's vocabulary", item=item, expected=f"one of {len(self)} clusters"
            ) from None

    def assign(self, tree: JunctionTree) -> JunctionTree:
        """Set ``wid`` of every node of `tree` (raises `InputError` on an unknown cluster)."""
        for node in tree.nodes:
            node.wid = self.index(node.smiles, molecule=tree.smiles)
        return tree

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as a JSON list, atomically."""
        text = json.dumps(self.clusters)
        return atomic_write(path, lambda tmp: tmp.write_text(text))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        """Read a vocabulary written by `save` (raises `InputError` when missing or malformed)."""
        source = Path(path)
        if not source.is_file():
            raise InputError("vocabulary file not found", item=str(source))
        try:
            clusters = json.loads(source.read_text())
        except json.JSONDecodeError as exc:
            raise InputError("vocabulary file is not JSON", item=f"{source}: {exc}") from exc
        if not isinstance(clusters, list) or not all(isinstance(c, str) for c in clusters):
            raise InputError("vocabulary file must hold a JSON list of strings", item=str(source))
        return cls(clusters)


def _first_duplicate(items: list[str]) -> str:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return ""
