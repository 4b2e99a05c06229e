"""Assembly: the valid ways of attaching a cluster's neighbours, and building a molecule from a tree.

Jin et al. 2018, Sec. 2.4: clusters attach to each other by sharing an atom (bond, singleton and
ring neighbours) or a bond (two fused rings). For a node and its ordered neighbours we enumerate
every atom/bond matching (equal element and formal charge, carbon valence respected, atoms already
used by a singleton neighbour excluded), build each local molecule and keep those RDKit can
kekulise and sanitise, de-duplicated by canonical SMILES. Atom-map numbers (the node ids of non-leaf
clusters) are part of the SMILES so that two attachments that give the same local molecule but a
different global one stay distinct. The whole molecule is then built depth first from the root,
choosing one candidate per node (the ground truth, or the decoder's best scoring), with backtracking
when a choice cannot be continued. Everything here is stereo-free; `reassemble` (ground truth) and
`JTVAE` (decoding) add the stereo afterwards with `molgraph.stereo`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rdkit import Chem

from molgraph.chem import (
    copy_atom,
    editable_copy,
    kekule_mol,
    kekule_smiles,
    rdkit_quiet,
    sanitized,
    set_atom_map,
)
from molgraph.stereo import MAX_STEREOISOMERS, choose_stereo, has_stereo, stereo_candidates
from molgraph.tree import JunctionTree, TreeNode

__all__ = [
    "AtomMapping",
    "Candidate",
    "Enumeration",
    "EnumerationLimits",
    "RoundTrip",
    "assemble_tree",
    "atom_slots",
    "attachment_feasible",
    "enumerate_assemblies",
    "enumerate_candidates",
    "ground_truth_rank",
    "order_neighbors",
    "reassemble",
    "round_trip",
    "slots_compatible",
]

MAX_CANDIDATES = 2000
AtomMap = list[tuple[int, int, int]]  # (neighbour nid, atom index in centre, atom index in neighbour)


@dataclass(frozen=True)
class EnumerationLimits:
    """Bounds on one node's candidate enumeration: at most `max_candidates` complete attachments
    and `max_seconds` of wall time; hitting either is reported (`Enumeration.truncated`)."""

    max_candidates: int = MAX_CANDIDATES
    max_seconds: float = 10.0


class AtomMapping:
    """Which atom of the input molecule each atom of each cluster is (`TreeNode.origin`).

    An attachment agrees with the input when every atom it shares between two clusters is the
    same input atom in both, and every atom the two clusters share in the input is shared.
    """

    def __init__(self, nodes: Sequence[TreeNode]) -> None:
        self.origin = {n.nid: n.origin for n in nodes}
        self.atoms = {n.nid: set(n.origin) for n in nodes}

    def agrees(
        self, node: TreeNode, amap: Sequence[tuple[int, int, int]], nids: set[int] | None = None
    ) -> bool:
        """Whether the entries of `amap` (restricted to neighbour ids `nids`, default all of them)
        attach each neighbour at exactly the input atoms it shares with `node`."""
        centre = self.origin[node.nid]
        hits: dict[int, set[int]] = {}
        for nid, ctr_atom, nei_atom in amap:
            if nids is not None and nid not in nids:
                continue
            if centre[ctr_atom] != self.origin[nid][nei_atom]:
                return False
            hits.setdefault(nid, set()).add(centre[ctr_atom])
        return all(shared == self.atoms[node.nid] & self.atoms[nid] for nid, shared in hits.items())


@dataclass
class Enumeration:
    """The candidates of one node and why the enumeration stopped early (None: it did not)."""

    candidates: list[Candidate]
    truncated: str | None = None


@dataclass(frozen=True)
class RoundTrip:
    """Result of the ground-truth round trip: the SMILES assembled, or None and the reason."""

    smiles: str | None
    reason: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """One local attachment: its canonical SMILES (with map numbers), the atom map, an aromaticity score."""

    smiles: str
    amap: tuple[tuple[int, int, int], ...]
    aroma: float


def order_neighbors(neighbors: Sequence[TreeNode]) -> list[TreeNode]:
    """Singletons first, then larger clusters first (rings before bonds): fewer dead ends."""
    singles = [n for n in neighbors if n.n_atoms == 1]
    others = sorted((n for n in neighbors if n.n_atoms > 1), key=lambda n: n.n_atoms, reverse=True)
    return singles + others


def _atom_equal(a: Chem.Atom, b: Chem.Atom) -> bool:
    return a.GetSymbol() == b.GetSymbol() and a.GetFormalCharge() == b.GetFormalCharge()


def _bond_equal(b1: Chem.Bond, b2: Chem.Bond, reverse: bool) -> bool:
    x1, y1 = b1.GetBeginAtom(), b1.GetEndAtom()
    x2, y2 = (b2.GetEndAtom(), b2.GetBeginAtom()) if reverse else (b2.GetBeginAtom(), b2.GetEndAtom())
    return _atom_equal(x1, x2) and _atom_equal(y1, y2)


def _attach(
    ctr: Chem.RWMol, neighbors: Sequence[TreeNode], prev: Sequence[TreeNode], amaps: dict[int, dict[int, int]]
) -> Chem.RWMol:
    """Add the atoms and bonds of `prev` + `neighbors` to `ctr` following `amaps[nid][nei_atom] = ctr_atom`."""
    prev_ids = {n.nid for n in prev}
    for nei in list(prev) + list(neighbors):
        amap = amaps[nei.nid]
        for atom in nei.mol.GetAtoms():
            if atom.GetIdx() not in amap:
                amap[atom.GetIdx()] = ctr.AddAtom(copy_atom(atom))
        if nei.mol.GetNumBonds() == 0:
            ctr.GetAtomWithIdx(amap[0]).SetAtomMapNum(nei.mol.GetAtomWithIdx(0).GetAtomMapNum())
            continue
        for bond in nei.mol.GetBonds():
            a1, a2 = amap[bond.GetBeginAtomIdx()], amap[bond.GetEndAtomIdx()]
            if ctr.GetBondBetweenAtoms(a1, a2) is None:
                ctr.AddBond(a1, a2, bond.GetBondType())
            elif nei.nid in prev_ids:  # the parent's bond order wins on a shared ring bond
                ctr.RemoveBond(a1, a2)
                ctr.AddBond(a1, a2, bond.GetBondType())
    return ctr


def _local_attach(
    ctr_mol: Chem.Mol, neighbors: Sequence[TreeNode], prev: Sequence[TreeNode], amap: Sequence[tuple]
) -> Chem.Mol:
    ctr = editable_copy(ctr_mol)
    amaps: dict[int, dict[int, int]] = {n.nid: {} for n in list(prev) + list(neighbors)}
    for nid, ctr_atom, nei_atom in amap:
        amaps[nid][nei_atom] = ctr_atom
    return _attach(ctr, neighbors, prev, amaps).GetMol()


def _enum_attach(ctr_mol: Chem.Mol, nei: TreeNode, amap: AtomMap, singletons: set[int]) -> list[AtomMap]:
    """Every way to attach `nei` to `ctr_mol` given the attachments `amap` made so far."""
    nei_mol, nid = nei.mol, nei.nid
    blocked = {ctr_atom for n, ctr_atom, _ in amap if n in singletons}
    ctr_atoms = [a for a in ctr_mol.GetAtoms() if a.GetIdx() not in blocked]
    out: list[AtomMap] = []
    if nei_mol.GetNumBonds() == 0:  # singleton neighbour: share one atom not used yet
        nei_atom = nei_mol.GetAtomWithIdx(0)
        used = {ctr_atom for _, ctr_atom, _ in amap}
        for atom in ctr_atoms:
            if _atom_equal(atom, nei_atom) and atom.GetIdx() not in used:
                out.append([*amap, (nid, atom.GetIdx(), 0)])
    elif nei_mol.GetNumBonds() == 1:  # a bond neighbour: share one of its two atoms
        bond = nei_mol.GetBondWithIdx(0)
        order = int(bond.GetBondTypeAsDouble())
        b1, b2 = bond.GetBeginAtom(), bond.GetEndAtom()
        for atom in ctr_atoms:
            if atom.GetAtomicNum() == 6 and atom.GetTotalNumHs() < order:
                continue
            # both ends are tried even when they are the same element: they give the same local
            # SMILES (de-duplicated) but only one of them is the input's atom (ground truth)
            if _atom_equal(atom, b1):
                out.append([*amap, (nid, atom.GetIdx(), b1.GetIdx())])
            if _atom_equal(atom, b2):
                out.append([*amap, (nid, atom.GetIdx(), b2.GetIdx())])
    else:  # a ring neighbour: share an atom (spiro) or a bond (fused)
        for a1 in ctr_atoms:
            for a2 in nei_mol.GetAtoms():
                if _atom_equal(a1, a2):
                    if a1.GetAtomicNum() == 6 and a1.GetTotalNumHs() + a2.GetTotalNumHs() < 4:
                        continue
                    out.append([*amap, (nid, a1.GetIdx(), a2.GetIdx())])
        if ctr_mol.GetNumBonds() > 1:
            for b1 in ctr_mol.GetBonds():
                for b2 in nei_mol.GetBonds():
                    x1, y1 = b1.GetBeginAtomIdx(), b1.GetEndAtomIdx()
                    if _bond_equal(b1, b2, reverse=False):
                        out.append([*amap, (nid, x1, b2.GetBeginAtomIdx()), (nid, y1, b2.GetEndAtomIdx())])
                    if _bond_equal(b1, b2, reverse=True):
                        out.append([*amap, (nid, x1, b2.GetEndAtomIdx()), (nid, y1, b2.GetBeginAtomIdx())])
    return out


@lru_cache(maxsize=4096)
def _aromatic_ring_size(smiles: str) -> int:
    """Ring size (5 or 6) when the cluster is a single ring that RDKit perceives aromatic, else 0."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() not in (5, 6):
        return 0
    ring_info = mol.GetRingInfo()
    if ring_info.NumRings() != 1 or not all(a.GetIsAromatic() for a in mol.GetAtoms()):
        return 0
    return mol.GetNumAtoms()


def _singleton_ok(cand: Chem.Mol, ctr: TreeNode, neighbors: Sequence[TreeNode]) -> bool:
    """With rings and no singleton in the neighbourhood, no atom may carry two acyclic neighbours."""
    group = [*neighbors, ctr]
    if any(n.n_atoms == 1 for n in group) or not any(n.n_atoms > 2 for n in group):
        return True
    for atom in cand.GetAtoms():
        if sum(1 for a in atom.GetNeighbors() if not a.IsInRing()) > 1:
            return False
    return True


def _aroma_score(cand: Chem.Mol, ctr: TreeNode, neighbors: Sequence[TreeNode]) -> float:
    """Prefer attachments that keep aromatic ring clusters aromatic in a multi-ring neighbourhood.

    Returns 0 (nothing to check), a large bonus when every aromatic ring cluster stays aromatic,
    a small negative value otherwise (such candidates are dropped when a better one exists).
    """
    group = [*neighbors, ctr]
    if sum(1 for n in group if n.n_atoms >= 3) < 2:
        return 0.0
    rings = [(0 if n.is_leaf else n.nid, _aromatic_ring_size(n.smiles)) for n in group]
    rings = [(nid, size) for nid, size in rings if size]
    if not rings:
        return 0.0
    ids = {nid for nid, _ in rings}
    needed = sum(4 if size == 6 else 3 for _, size in rings)
    found = sum(1 for a in cand.GetAtoms() if a.GetAtomMapNum() in ids and a.GetIsAromatic())
    return 1000.0 if found >= needed else -0.001


def enumerate_assemblies(
    node: TreeNode,
    neighbors: Sequence[TreeNode],
    prev: Sequence[TreeNode] = (),
    prev_amap: Sequence[tuple[int, int, int]] = (),
) -> list[Candidate]:
    """All valid local attachments of `neighbors` (and already placed `prev` nodes) to `node`.

    The candidates of `enumerate_candidates` under the default `EnumerationLimits`.
    """
    return enumerate_candidates(node, neighbors, prev, prev_amap).candidates


@rdkit_quiet()
def enumerate_candidates(
    node: TreeNode,
    neighbors: Sequence[TreeNode],
    prev: Sequence[TreeNode] = (),
    prev_amap: Sequence[tuple[int, int, int]] = (),
    *,
    mapping: AtomMapping | None = None,
    only_agreeing: bool = False,
    limits: EnumerationLimits | None = None,
) -> Enumeration:
    """Valid local attachments of `neighbors` (and already placed `prev` nodes) to `node`.

    Args:
        node: the centre cluster (its ``mol`` atoms carry its map number unless it is a leaf).
        neighbors: nodes to attach, ordered by `order_neighbors`.
        prev: nodes already attached (the parent during decoding).
        prev_amap: how `prev` is attached, as (nid, centre atom, neighbour atom) triples.
        mapping: the input's atom mapping (ground truth): the attachment that agrees with it is
            never lost to the de-duplication of equal local SMILES, and represents its SMILES.
        only_agreeing: with `mapping`, explore only attachments that agree with the input (the
            ground-truth assembly: one path instead of the whole enumeration).
        limits: count and time bounds (default `EnumerationLimits()`).

    Returns:
        Candidates de-duplicated by canonical SMILES (empty when no attachment is chemically
        valid) and, when a bound stopped the search, which one.
    """
    limits = limits or EnumerationLimits()
    deadline = time.monotonic() + limits.max_seconds
    confs: list[tuple[AtomMap, Chem.Mol, bool]] = []
    singletons = {n.nid for n in [*neighbors, *prev] if n.n_atoms == 1}
    stopped: list[str] = []

    def search(amap: AtomMap, local: Chem.Mol | None, depth: int, agreeing: bool) -> None:
        if stopped:
            return
        if len(confs) >= limits.max_candidates:
            stopped.append(f"candidate cap ({limits.max_candidates})")
            return
        if time.monotonic() > deadline:
            stopped.append(f"time limit ({limits.max_seconds:g} s)")
            return
        if depth == len(neighbors):
            built = local if local is not None else _local_attach(node.mol, neighbors, prev, amap)
            confs.append((amap, built, agreeing))
            return
        seen: set[str] = set()
        nid = neighbors[depth].nid
        for option in _enum_attach(node.mol, neighbors[depth], amap, singletons):
            agrees = agreeing and mapping is not None and mapping.agrees(node, option, {nid})
            if only_agreeing and not agrees:
                continue
            attached = _local_attach(node.mol, neighbors[: depth + 1], prev, option)
            checked = sanitized(attached)
            if checked is None:
                continue
            key = kekule_smiles(checked)
            if key in seen and not agrees:
                continue
            seen.add(key)
            search(option, attached, depth + 1, agrees)

    search(list(prev_amap), None, 0, mapping is not None)
    out: list[Candidate] = []
    position: dict[str, int] = {}
    for amap, local, agrees in confs:
        mol = Chem.MolFromSmiles(Chem.MolToSmiles(local))
        if mol is None:
            continue
        smiles = Chem.MolToSmiles(mol)
        if not _singleton_ok(mol, node, neighbors):
            continue
        candidate = Candidate(smiles, tuple(amap), _aroma_score(mol, node, neighbors))
        if smiles in position:
            if agrees:  # the attachment that agrees with the input represents its SMILES
                out[position[smiles]] = candidate
            continue
        position[smiles] = len(out)
        out.append(candidate)
    return Enumeration(out, stopped[0] if stopped else None)


Ranker = Callable[[TreeNode, list[Candidate]], Sequence[int]]


@rdkit_quiet()
def assemble_tree(
    nodes: Sequence[TreeNode],
    rank: Ranker,
    *,
    max_steps: int = 500,
    mapping: AtomMapping | None = None,
    limits: EnumerationLimits | None = None,
    failure: dict | None = None,
) -> Chem.Mol | None:
    """Build the molecule of a junction tree depth first from ``nodes[0]``.

    Args:
        nodes: tree nodes with ``nid`` 1..n, ``neighbors`` and ``is_leaf`` set (root first); the
            ``mol`` of each non-leaf node carries its nid as atom-map number.
        rank: given a node and its candidates, the candidate indices to try, best first; an empty
            sequence means "none acceptable" (triggers backtracking).
        max_steps: bound on candidate trials over the whole search.
        mapping: ground truth: at every node only the attachments that agree with the input
            molecule's atoms (`AtomMapping`) are enumerated.
        limits: bounds of each node's candidate enumeration.
        failure: when given, filled with why the assembly failed (``reason``, ``cluster``).

    Returns:
        The sanitised molecule (atom maps cleared), or None when no choice assembles.
    """
    root = nodes[0]
    cur = editable_copy(root.mol)
    amaps: list[dict[int, int]] = [{} for _ in range(len(nodes) + 1)]
    amaps[root.nid] = {a.GetIdx(): a.GetIdx() for a in cur.GetAtoms()}
    search = _Search(rank, [max_steps], mapping, limits, failure if failure is not None else {})
    result = _dfs(cur, amaps, (), root, None, search)
    if result is None:
        return None
    mol = result[0].GetMol()
    set_atom_map(mol, 0)
    final = Chem.MolFromSmiles(Chem.MolToSmiles(mol))
    if final is None:
        search.failure.setdefault("reason", "assembled molecule does not sanitise")
    return final


@dataclass
class _Search:
    """What one `assemble_tree` call shares across its depth-first search."""

    rank: Ranker
    budget: list[int]
    mapping: AtomMapping | None
    limits: EnumerationLimits | None
    failure: dict


def _dfs(
    cur: Chem.RWMol,
    amaps: list[dict[int, int]],
    fa_amap: Sequence[tuple[int, int, int]],
    node: TreeNode,
    father: TreeNode | None,
    search: _Search,
) -> tuple[Chem.RWMol, list[dict[int, int]]] | None:
    fa_nid = father.nid if father is not None else -1
    prev = [father] if father is not None else []
    children = [n for n in node.neighbors if n.nid != fa_nid]
    neighbors = order_neighbors(children)
    cur_amap = [(fa_nid, a2, a1) for nid, a1, a2 in fa_amap if nid == node.nid]
    found = enumerate_candidates(
        node,
        neighbors,
        prev,
        cur_amap,
        mapping=search.mapping,
        only_agreeing=search.mapping is not None,
        limits=search.limits,
    )
    candidates = found.candidates
    if not candidates:
        reason = found.truncated or "no valid attachment of its neighbours"
        search.failure.setdefault("reason", reason)
        search.failure.setdefault("cluster", node.smiles)
        return None
    for index in search.rank(node, candidates):
        search.budget[0] -= 1
        if search.budget[0] < 0:
            search.failure.setdefault("reason", "assembly step budget exhausted")
            return None
        cand = candidates[index]
        trial_maps = copy.deepcopy(amaps)
        for nid, ctr_atom, nei_atom in cand.amap:
            if nid != fa_nid:
                trial_maps[nid][nei_atom] = trial_maps[node.nid][ctr_atom]
        trial = _attach(Chem.RWMol(cur), children, [], trial_maps)
        if sanitized(trial.GetMol()) is None:
            search.failure.setdefault("reason", "attachment does not sanitise in the growing molecule")
            search.failure.setdefault("cluster", node.smiles)
            continue
        ok = True
        for child in children:
            if child.is_leaf:
                continue
            result = _dfs(trial, trial_maps, cand.amap, child, node, search)
            if result is None:
                ok = False
                break
            trial, trial_maps = result
        if ok:
            return trial, trial_maps
    return None


def ground_truth_rank(node: TreeNode, candidates: list[Candidate]) -> list[int]:
    """The ranker that picks the candidate equal to the node's recorded label (or nothing)."""
    return [i for i, c in enumerate(candidates) if c.smiles == node.label][:1]


def _every_candidate(node: TreeNode, candidates: list[Candidate]) -> list[int]:
    return list(range(len(candidates)))


@rdkit_quiet()
def round_trip(
    tree: JunctionTree, *, max_isomers: int = MAX_STEREOISOMERS, limits: EnumerationLimits | None = None
) -> RoundTrip:
    """The ground-truth round trip: assemble `tree` choosing, at every node, the attachment that
    agrees with the input molecule atom for atom, then put the input's stereo back.

    The assembly uses the decoder's machinery (candidate enumeration, valence and sanitisation
    checks); only the choice is taken from the input. So the result is the input, or None with a
    stated reason: ``"ring system not assemblable"`` (no valid attachment agreeing with the input
    at some cluster, named in ``details``), ``"candidate cap"`` / ``"time limit"`` (an enumeration
    bound was hit), ``"stereo partial"`` (the input specifies only some of its stereo elements, so
    no fully specified isomer equals it), ``"stereo over cap"`` (more isomers than `max_isomers`
    and the input's was not drawn), ``"stereo not enumerable"`` (the input's stereo has no
    heavy-atom isomer, e.g. a C=N fixed by an explicit ``[H]``), or ``"different molecule"`` (assembled, but not the input:
    a defect this function reports rather than hides).
    """
    if len(tree) == 1:
        mol = Chem.MolFromSmiles(tree.nodes[0].smiles)
        failure: dict = {}
    else:
        failure = {}
        nodes = tree.input_kekule_nodes()
        mol = assemble_tree(
            nodes, _every_candidate, mapping=AtomMapping(nodes), limits=limits, failure=failure
        )
    if mol is None:
        why = str(failure.get("reason", "no valid attachment"))
        reason = (
            why.split(" (")[0]
            if why.startswith(("candidate cap", "time limit"))
            else "ring system not assemblable"
        )
        return RoundTrip(None, reason, {"detail": why, "cluster": failure.get("cluster")})
    flat = Chem.MolToSmiles(mol)
    if flat != tree.smiles2d:
        return RoundTrip(None, "different molecule", {"assembled": flat, "input": tree.smiles2d})
    if not has_stereo(tree.smiles):
        return RoundTrip(flat)
    candidates = stereo_candidates(mol, max_isomers)
    chosen = choose_stereo(candidates, tree.smiles)
    if chosen is not None:
        return RoundTrip(chosen)
    specified, total = _stereo_counts(tree.smiles)
    if len(candidates) <= 1:  # e.g. C=N stereo fixed by an explicit [H]: no heavy-atom isomer carries it
        return RoundTrip(None, "stereo not enumerable", {"input": tree.smiles, "isomers enumerated": 0})
    if specified < total:
        return RoundTrip(None, "stereo partial", {"specified": specified, "stereo elements": total})
    return RoundTrip(None, "stereo over cap", {"isomers enumerated": len(candidates) - 1, "cap": max_isomers})


def _stereo_counts(smiles: str) -> tuple[int, int]:
    """(stereo elements the SMILES specifies, stereo elements the molecule has)."""
    from rdkit.Chem import FindPotentialStereo

    mol = Chem.MolFromSmiles(smiles)
    elements = FindPotentialStereo(mol)
    specified = sum(1 for e in elements if e.specified == Chem.StereoSpecified.Specified)
    return specified, len(elements)


def reassemble(tree: JunctionTree, *, max_isomers: int = MAX_STEREOISOMERS) -> str | None:
    """Canonical isomeric SMILES of the ground-truth round trip (`round_trip`), None when it fails
    (`round_trip` says why)."""
    return round_trip(tree, max_isomers=max_isomers).smiles


def slots_compatible(parent: list[tuple[str, int, int]], child: list[tuple[str, int, int]]) -> bool:
    """Cheap valence test before attaching `child` to `parent` (each a list of (element, charge, H count)).

    Two atoms can be shared when element and charge agree and, for carbon, the two hydrogen counts
    leave room for the new bonds (sum >= 4). Two-atom clusters whose only match is one atom lose
    that slot (they cannot be shared twice). Mutates the lists like a reservation.
    """
    if len(parent) > 2 and len(child) > 2:
        return True
    matches = [
        (i, j)
        for i, (e1, c1, h1) in enumerate(parent)
        for j, (e2, c2, h2) in enumerate(child)
        if e1 == e2 and c1 == c2 and (e1 != "C" or h1 + h2 >= 4)
    ]
    if not matches:
        return False
    parent_hits = {i for i, _ in matches}
    child_hits = {j for _, j in matches}
    if len(parent_hits) == 1 and 1 < len(parent) <= 2:
        parent.pop(next(iter(parent_hits)))
    if len(child_hits) == 1 and 1 < len(child) <= 2:
        child.pop(next(iter(child_hits)))
    return True


def atom_slots(mol: Chem.Mol) -> list[tuple[str, int, int]]:
    """(element, formal charge, total H count) of each atom of a kekulé cluster."""
    return [(a.GetSymbol(), a.GetFormalCharge(), a.GetTotalNumHs()) for a in mol.GetAtoms()]


def attachment_feasible(parent: TreeNode, child_smiles: str) -> bool:
    """Whether a new child with cluster `child_smiles` can be attached to `parent` and its current neighbours.

    Works on fresh copies, so the nodes of the tree being decoded are untouched.
    """
    centre = TreeNode(smiles=parent.smiles, mol=_fresh(parent.smiles), nid=1)
    set_atom_map(centre.mol, 1)
    others = [n.smiles for n in parent.neighbors] + [child_smiles]
    degree = [len(n.neighbors) for n in parent.neighbors] + [1]
    neighbors = []
    for index, (smiles, deg) in enumerate(zip(others, degree)):
        nei = TreeNode(smiles=smiles, mol=_fresh(smiles), nid=index + 2)
        nei.is_leaf = deg <= 1
        set_atom_map(nei.mol, 0 if nei.is_leaf else nei.nid)
        neighbors.append(nei)
    return bool(enumerate_assemblies(centre, order_neighbors(neighbors)))


def _fresh(smiles: str) -> Chem.Mol:
    mol = kekule_mol(smiles)
    if mol is None:
        raise ValueError(f"cluster SMILES does not kekulise: {smiles}")
    return mol
