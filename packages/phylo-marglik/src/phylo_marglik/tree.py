"""Unrooted binary topologies as index arrays ready for batched Felsenstein pruning.

Node numbering for ``n`` taxa: tips ``0 .. n-1`` in the alignment's taxon order, internal
non-root nodes ``n .. 2n-4`` in post-order, and the root (an internal node with three children,
where the unrooted tree is drawn) is ``2n-3``. Every non-root node ``i`` owns the branch to its
parent, so the ``2n-3`` branch lengths are indexed by node: ``branch_lengths[..., i]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from core.errors import InputError

__all__ = ["Topology", "parse_newick", "read_credible_set", "read_trees"]


@dataclass(frozen=True)
class Topology:
    """A fixed unrooted binary topology over `taxa`.

    Attributes:
        taxa: tip labels; tip ``i`` is ``taxa[i]``.
        parent: (2n-3,) parent node of each non-root node (the branch index is the node index).
        levels: internal non-root nodes grouped so that every child of a level is a tip or in an
            earlier level; each entry is ``(nodes (L,), children (L, 2))`` as int64 tensors.
        root_children: (3,) the root's children.
        branch_lengths: (2n-3,) float64 lengths read from the Newick string (NaN where absent).
        newick: the topology as given (for reports).
    """

    taxa: tuple[str, ...]
    parent: torch.Tensor
    levels: tuple[tuple[torch.Tensor, torch.Tensor], ...]
    root_children: torch.Tensor
    branch_lengths: torch.Tensor
    newick: str = ""
    _children: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_taxa(self) -> int:
        return len(self.taxa)

    @property
    def n_branches(self) -> int:
        """2n - 3 for n taxa."""
        return 2 * self.n_taxa - 3

    @property
    def n_nodes(self) -> int:
        return 2 * self.n_taxa - 2

    @property
    def root(self) -> int:
        return self.n_nodes - 1

    def children(self, node: int) -> tuple[int, ...]:
        """Children of `node` (empty for a tip)."""
        return self._children.get(node, ())

    def splits(self, trivial: bool = False) -> dict[int, int]:
        """Bipartition of the taxa induced by each branch.

        Returns:
            ``{split: branch}``; a split is an int bit mask of the tips on the side of the branch
            that does not hold tip 0. Trivial splits (one tip alone) are left out unless `trivial`.
        """
        below = [0] * self.n_nodes
        for i in range(self.n_taxa):
            below[i] = 1 << i
        for nodes, _ in self.levels:
            for node in nodes.tolist():
                below[node] = sum(below[c] for c in self._children[node])
        full = (1 << self.n_taxa) - 1
        result = {}
        for branch in range(self.n_branches):
            mask = below[branch]
            if mask & 1:
                mask = full ^ mask
            if trivial or 1 < bin(mask).count("1") < self.n_taxa - 1:
                result[mask] = branch
        return result

    def to_newick(self, branch_lengths: torch.Tensor | None = None) -> str:
        """Newick string of the topology, with `branch_lengths` ((2n-3,)) when given."""

        def write(node: int) -> str:
            kids = self.children(node)
            text = self.taxa[node] if not kids else "(" + ",".join(write(k) for k in kids) + ")"
            if branch_lengths is not None and node != self.root:
                text += f":{float(branch_lengths[node]):.10g}"
            return text

        return write(self.root) + ";"


def parse_newick(text: str, taxa: tuple[str, ...] | None = None, source: str = "<newick>") -> Topology:
    """Parse one Newick tree into a `Topology` whose tips follow `taxa`.

    A rooted (basal bifurcation) tree is unrooted by merging the two root branches into one
    whose length is their sum.

    Args:
        text: a Newick string (branch lengths optional).
        taxa: the alignment's taxa; tip order follows it. When None, the tree's own leaf order.
        source: file and line to name in errors.

    Raises:
        InputError: unparsable text, duplicate or unlabelled leaves, fewer than 3 taxa, a
            non-binary node, negative branch lengths, or leaves that do not match `taxa`.
    """
    import dendropy

    try:
        tree = dendropy.Tree.get(
            data=text.strip(), schema="newick", rooting="force-unrooted", preserve_underscores=True
        )
    except Exception as exc:
        raise InputError(f"cannot parse Newick tree: {str(exc).splitlines()[0]}", item=source) from exc
    leaves = [leaf.taxon.label if leaf.taxon is not None else None for leaf in tree.leaf_node_iter()]
    if any(label is None for label in leaves):
        raise InputError("a leaf of the tree has no label", item=source)
    if len(set(leaves)) != len(leaves):
        dup = next(x for x in leaves if leaves.count(x) > 1)
        raise InputError("duplicate leaf label in tree", item=f"{source}: {dup!r}")
    if len(leaves) < 3:
        raise InputError("an unrooted tree needs at least 3 taxa", item=source)
    order = tuple(taxa) if taxa is not None else tuple(leaves)
    missing = sorted(set(order) - set(leaves))
    extra = sorted(set(leaves) - set(order))
    if missing or extra:
        raise InputError(
            "tree and alignment taxa do not match",
            item=f"{source}: in alignment only {missing[:5]}, in tree only {extra[:5]}",
            expected="the same taxon labels in tree and alignment",
        )
    for edge in tree.preorder_edge_iter():
        if edge.length is not None and edge.length < 0:
            label = edge.head_node.taxon.label if edge.head_node.taxon else "internal node"
            raise InputError("negative branch length in tree", item=f"{source}: above {label}, {edge.length}")
    if len(tree.seed_node.child_nodes()) == 2:
        _merge_basal_bifurcation(tree)
    root = tree.seed_node
    kids = root.child_nodes()
    if len(kids) != 3:
        if all(k.is_leaf() for k in kids) and len(kids) > 3:
            raise InputError(
                f"a star tree: all {len(kids)} taxa hang from one node, so there is no topology to score",
                item=source,
                expected="a binary unrooted tree (three subtrees at its base, two below every other internal node)",
            )
        raise InputError(
            f"the unrooted tree's base has {len(kids)} subtrees",
            item=f"{source}: subtrees {_describe(kids)}",
            expected="three subtrees at the base of a binary unrooted tree",
        )
    return _index_tree(tree, order, source, text.strip())


def _describe(nodes: list) -> str:
    """The subtrees `nodes` by their leaves, e.g. ``(a, b) and c``, at most 4 labels each."""

    def leaves(node: object) -> str:
        labels = [leaf.taxon.label for leaf in node.leaf_iter()]  # type: ignore[attr-defined]
        shown = ", ".join(labels[:4]) + (", ..." if len(labels) > 4 else "")
        return shown if len(labels) == 1 else f"({shown})"

    return ", ".join(leaves(n) for n in nodes)


def _merge_basal_bifurcation(tree: object) -> None:
    root = tree.seed_node  # type: ignore[attr-defined]
    left, right = root.child_nodes()
    keep, fold = (left, right) if right.is_internal() else (right, left)
    if not fold.is_internal():
        return
    joined = None
    if keep.edge.length is not None or fold.edge.length is not None:
        joined = (keep.edge.length or 0.0) + (fold.edge.length or 0.0)
    root.remove_child(fold)
    for child in list(fold.child_nodes()):
        fold.remove_child(child)
        root.add_child(child)
    keep.edge.length = joined


def _index_tree(tree: object, order: tuple[str, ...], source: str, text: str) -> Topology:
    n = len(order)
    tip_index = {label: i for i, label in enumerate(order)}
    node_id: dict[int, int] = {}
    next_internal = n
    root_node = tree.seed_node  # type: ignore[attr-defined]
    for node in tree.postorder_node_iter():  # type: ignore[attr-defined]
        if node.is_leaf():
            node_id[id(node)] = tip_index[node.taxon.label]
        elif node is root_node:
            node_id[id(node)] = 2 * n - 3
        else:
            kids = node.child_nodes()
            if len(kids) == 1:
                raise InputError(
                    "the tree has a unary node (an internal node with a single child)",
                    item=f"{source}: the node above {_describe(kids)}",
                    expected="two children at every internal node (remove the extra parentheses)",
                )
            if len(kids) != 2:
                raise InputError(
                    f"the tree is not binary: an internal node has {len(kids)} children",
                    item=f"{source}: the node joining {_describe(kids)}",
                    expected="two children at every internal node (resolve the multifurcation)",
                )
            node_id[id(node)] = next_internal
            next_internal += 1
    parent = torch.empty(2 * n - 3, dtype=torch.int64)
    lengths = torch.full((2 * n - 3,), float("nan"), dtype=torch.float64)
    children: dict[int, tuple[int, ...]] = {}
    height = [0] * (2 * n - 2)
    for node in tree.postorder_node_iter():  # type: ignore[attr-defined]
        me = node_id[id(node)]
        kids = tuple(node_id[id(c)] for c in node.child_nodes())
        if kids:
            children[me] = kids
            height[me] = 1 + max(height[k] for k in kids)
        if node is not root_node:
            parent[me] = node_id[id(node.parent_node)]
            if node.edge.length is not None:
                lengths[me] = float(node.edge.length)
    by_height: dict[int, list[int]] = {}
    for node in range(n, 2 * n - 3):
        by_height.setdefault(height[node], []).append(node)
    levels = tuple(
        (
            torch.tensor(nodes, dtype=torch.int64),
            torch.tensor([children[v] for v in nodes], dtype=torch.int64).reshape(-1, 2),
        )
        for _, nodes in sorted(by_height.items())
    )
    return Topology(
        taxa=order,
        parent=parent,
        levels=levels,
        root_children=torch.tensor(children[2 * n - 3], dtype=torch.int64),
        branch_lengths=lengths,
        newick=text,
        _children=children,
    )


def read_trees(path: str | os.PathLike[str], taxa: tuple[str, ...] | None = None) -> list[Topology]:
    """Read Newick trees, one per line (lines may carry a leading ``<number><tab>`` as in the
    study's credible-set files; blank lines and ``#`` comments are skipped).

    Raises:
        InputError: missing or empty file, or a bad tree (naming the file and line).
    """
    return read_credible_set(path, taxa)[0]


def read_credible_set(
    path: str | os.PathLike[str], taxa: tuple[str, ...] | None = None
) -> tuple[list[Topology], list[float | None]]:
    """Read ``<probability>\\t<newick>`` lines (the study's ``JC_no_gamma_credible_set_*`` files),
    or the TREES block of a NEXUS file (``#NEXUS`` first; no probabilities, its other blocks ignored).

    Returns:
        The topologies and each line's probability (None for lines with a bare Newick tree).
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("tree file not found", item=str(file))
    text = file.read_text(errors="replace")
    if text.lstrip().upper().startswith("#NEXUS"):
        trees = _read_nexus_trees(file, text, taxa)
        return trees, [None] * len(trees)
    trees: list[Topology] = []
    probabilities: list[float | None] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        probability: float | None = None
        newick = stripped
        head, sep, tail = stripped.partition("\t")
        if sep and not head.lstrip().startswith("("):
            try:
                probability = float(head)
            except ValueError:
                raise InputError(
                    "expected '<probability><tab><newick>'", item=f"{file}, line {number}: {head!r}"
                ) from None
            newick = tail.strip()
        trees.append(parse_newick(newick, taxa, source=f"{file}, line {number}"))
        probabilities.append(probability)
    if not trees:
        raise InputError("no tree in file", item=str(file))
    return trees, probabilities


def _read_nexus_trees(file: Path, text: str, taxa: tuple[str, ...] | None) -> list[Topology]:
    """The trees of a NEXUS file's TREES block(s), TRANSLATE tables applied by DendroPy."""
    import dendropy

    try:
        tree_list = dendropy.TreeList.get(data=text, schema="nexus", preserve_underscores=True)
    except Exception as exc:
        line = getattr(exc, "line_num", None)
        where = f"{file}, line {line}" if line is not None else str(file)
        message = str(exc).strip().splitlines()
        raise InputError(
            f"cannot parse NEXUS trees: {message[0] if message else type(exc).__name__}", item=where
        ) from exc
    if len(tree_list) == 0:
        raise InputError("no tree in file", item=str(file), expected="a NEXUS TREES block or Newick lines")
    return [
        parse_newick(
            tree.as_string(schema="newick", suppress_rooting=True).strip(),
            taxa,
            source=f"{file}, tree {i + 1} ({tree.label or 'unnamed'})",
        )
        for i, tree in enumerate(tree_list)
    ]
