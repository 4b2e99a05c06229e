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
        merge_peri_fused: the decomposition the clusters come from (`molgraph.tree.tree_decompose`);
            every tree built for this vocabulary (`tree`) uses it, and it is saved with it.

    Raises:
        InputError: for a duplicate or a SMILES that RDKit cannot kekulise.
    """

    def __init__(self, clusters: Iterable[str], *, merge_peri_fused: bool = False) -> None:
        self.merge_peri_fused = merge_peri_fused
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
    def from_clusters(cls, clusters: Iterable[str], *, merge_peri_fused: bool = False) -> Vocab:
        """Vocabulary of the distinct cluster SMILES in `clusters`, sorted for reproducibility."""
        return cls(sorted(set(clusters)), merge_peri_fused=merge_peri_fused)

    @classmethod
    def from_trees(cls, trees: Iterable[JunctionTree]) -> Vocab:
        """Vocabulary of every cluster in `trees` (all built with the same decomposition)."""
        trees = list(trees)
        modes = {tree.merge_peri_fused for tree in trees}
        if len(modes) > 1:
            raise InputError("trees mix two decompositions", item="merge_peri_fused True and False")
        return cls.from_clusters(
            (node.smiles for tree in trees for node in tree.nodes), merge_peri_fused=modes == {True}
        )

    @classmethod
    def from_smiles(cls, smiles: Iterable[str], *, merge_peri_fused: bool = False) -> Vocab:
        """Vocabulary of every cluster of the (valid) molecules in `smiles`; invalid ones raise `InputError`."""
        return cls.from_clusters(
            (
                node.smiles
                for s in smiles
                for node in JunctionTree(s, merge_peri_fused=merge_peri_fused).nodes
            ),
            merge_peri_fused=merge_peri_fused,
        )

    def tree(self, smiles: str) -> JunctionTree:
        """The junction tree of `smiles` under this vocabulary's decomposition (not yet assigned)."""
        return JunctionTree(smiles, merge_peri_fused=self.merge_peri_fused)

    def to_json(self) -> list[str] | dict:
        """The saved form: the plain cluster list for the paper's decomposition (the format every
        earlier vocabulary file and model has), else ``{"clusters": [...], "merge_peri_fused": true}``."""
        if not self.merge_peri_fused:
            return list(self.clusters)
        return {"clusters": list(self.clusters), "merge_peri_fused": True}

    @classmethod
    def from_json(cls, data: object, *, source: str = "vocabulary") -> Vocab:
        """Inverse of `to_json` (raises `InputError` naming `source` when malformed)."""
        merge = False
        if isinstance(data, dict):
            merge = data.get("merge_peri_fused", False)
            if not isinstance(merge, bool):
                raise InputError("merge_peri_fused must be true or false", item=source)
            data = data.get("clusters")
        if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
            raise InputError('vocabulary must be a JSON list of strings or {"clusters": [...]}', item=source)
        return cls(data, merge_peri_fused=merge)

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
        """Set ``wid`` of every node of `tree` (raises `InputError` on an unknown cluster, or when
        `tree` was built with another decomposition than this vocabulary's)."""
        if tree.merge_peri_fused != self.merge_peri_fused:
            raise InputError(
                "junction tree and vocabulary use different decompositions",
                item=f"{tree.smiles}: merge_peri_fused={tree.merge_peri_fused}, vocabulary {self.merge_peri_fused}",
            )
        for node in tree.nodes:
            node.wid = self.index(node.smiles, molecule=tree.smiles)
        return tree

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as JSON (`to_json`), atomically."""
        text = json.dumps(self.to_json())
        return atomic_write(path, lambda tmp: tmp.write_text(text))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocab:
        """Read a vocabulary written by `save` (raises `InputError` when missing or malformed)."""
        source = Path(path)
        if not source.is_file():
            raise InputError("vocabulary file not found", item=str(source))
        try:
            clusters = json.loads(source.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError("vocabulary file is not JSON", item=f"{source}: {exc}") from exc
        return cls.from_json(clusters, source=str(source))


def _first_duplicate(items: list[str]) -> str:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return ""
