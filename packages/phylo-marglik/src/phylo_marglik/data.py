"""Data sets: the study's DS1-DS5 (read from the shared folder, never bundled) and a simulated
default case (an alignment simulated along a known tree) that runs anywhere.

The study's files live in ``<repo>/../shared/data/phylo-marglik/``; set ``PHYLO_MARGLIK_DATA``
to point elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.errors import InputError
from phylo_marglik.alignment import STATES, Alignment, SitePatterns, compress_patterns, read_alignment
from phylo_marglik.substitution import JC69, SubstitutionModel
from phylo_marglik.tree import Topology, parse_newick, read_credible_set

__all__ = [
    "STUDY_DATASETS",
    "TopologySet",
    "load_study_dataset",
    "load_topology_set",
    "simulate_alignment",
    "simulated_case",
    "study_data_dir",
]

STUDY_DATASETS = ("DS1", "DS2", "DS3", "DS3s", "DS4", "DS5")


@dataclass(frozen=True)
class TopologySet:
    """An alignment with a list of candidate topologies and (optionally) their reference
    posterior probabilities (the study's SRF column).

    Attributes:
        name: data-set name.
        patterns: the compressed alignment.
        topologies: the candidate topologies.
        reference: (T,) reference probabilities, or None when unknown.
    """

    name: str
    patterns: SitePatterns
    topologies: tuple[Topology, ...]
    reference: np.ndarray | None


def study_data_dir() -> Path:
    """Folder of the study's data: ``$PHYLO_MARGLIK_DATA`` or ``<repo>/../shared/data/phylo-marglik``.

    Raises:
        InputError: when neither exists.
    """
    env = os.environ.get("PHYLO_MARGLIK_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve()
    candidates += [parent / ".." / "shared" / "data" / "phylo-marglik" for parent in here.parents]
    candidates.append(Path.cwd() / ".." / "shared" / "data" / "phylo-marglik")
    for folder in candidates:
        if (folder / "refs.csv").is_file():
            return folder.resolve()
    raise InputError(
        "the study's data folder was not found",
        item=str(candidates[0] if env else "../shared/data/phylo-marglik"),
        expected="set PHYLO_MARGLIK_DATA or pass --alignment/--trees",
    )


def load_topology_set(
    alignment: str | os.PathLike[str], trees: str | os.PathLike[str], name: str = ""
) -> TopologySet:
    """Read an alignment and a tree list (``<prob>\\t<newick>`` lines or bare Newick lines)."""
    aln = read_alignment(alignment)
    topologies, probabilities = read_credible_set(trees, aln.taxa)
    reference = None
    if all(p is not None for p in probabilities):
        reference = np.array(probabilities, dtype=np.float64)
    return TopologySet(name or Path(alignment).stem, compress_patterns(aln), tuple(topologies), reference)


def load_study_dataset(name: str) -> TopologySet:
    """One of the study's data sets (``DS1`` ... ``DS5``, ``DS3s``) with its SRF probabilities.

    Raises:
        InputError: unknown name or missing data folder.
    """
    if name not in STUDY_DATASETS:
        raise InputError("unknown study data set", item=name, expected=f"one of {', '.join(STUDY_DATASETS)}")
    folder = study_data_dir()
    return load_topology_set(
        folder / f"{name}.nex", folder / f"JC_no_gamma_credible_set_{name.lower()}", name
    )


def simulate_alignment(
    topology: Topology,
    branch_lengths: torch.Tensor,
    n_sites: int,
    generator: np.random.Generator,
    model: SubstitutionModel | None = None,
) -> Alignment:
    """Simulate sequences along `topology` (root state from the stationary frequencies, then each
    branch's transition matrix; the rate category of each site drawn from its weights).

    Args:
        branch_lengths: (2n-3,) lengths indexed by node.
        n_sites: alignment length.
    """
    model = model if model is not None else JC69()
    probs = model.transition_matrices(branch_lengths.to(torch.float64)[None])[0].numpy()  # (E, C, 4, 4)
    n_nodes = topology.n_nodes
    cats = generator.choice(probs.shape[1], size=n_sites, p=model.category_weights.numpy())
    states = np.empty((n_nodes, n_sites), dtype=np.int64)
    states[topology.root] = generator.choice(4, size=n_sites, p=model.frequencies.numpy())
    order = [topology.root]
    for node in order:
        for child in topology.children(node):
            rows = probs[child, cats, states[node]]  # (sites, 4)
            u = generator.random(n_sites)[:, None]
            states[child] = (u > np.cumsum(rows, axis=1)).sum(1).clip(0, 3)
            order.append(child)
    sequences = tuple("".join(STATES[s] for s in states[i]) for i in range(topology.n_taxa))
    return Alignment(topology.taxa, sequences, source="simulated")


_DEFAULT_TREES = (
    "((A:0.08,B:0.05):0.04,(C:0.07,D:0.03):0.02,(E:0.06,(F:0.04,G:0.09):0.03):0.05);",
    "((A:0.08,B:0.05):0.04,(C:0.07,(E:0.06,(F:0.04,G:0.09):0.03):0.05):0.02,D:0.03);",
    "((A:0.08,C:0.07):0.04,(B:0.05,D:0.03):0.02,(E:0.06,(F:0.04,G:0.09):0.03):0.05);",
    "((A:0.08,B:0.05):0.04,(C:0.07,D:0.03):0.02,(F:0.04,(E:0.06,G:0.09):0.03):0.05);",
    "((A:0.08,D:0.03):0.04,(C:0.07,B:0.05):0.02,(E:0.06,(F:0.04,G:0.09):0.03):0.05);",
)


def simulated_case(n_sites: int = 300, seed: int = 1) -> TopologySet:
    """The package's own default: 7 taxa, JC69 sites simulated along the first of five
    topologies (listed with no reference probabilities)."""
    true_tree = parse_newick(_DEFAULT_TREES[0])
    taxa = tuple(sorted(true_tree.taxa))
    true_tree = parse_newick(_DEFAULT_TREES[0], taxa)
    aln = simulate_alignment(true_tree, true_tree.branch_lengths, n_sites, np.random.default_rng(seed))
    topologies = tuple(
        parse_newick(text, taxa, source=f"default tree {i}") for i, text in enumerate(_DEFAULT_TREES)
    )
    return TopologySet("simulated", compress_patterns(aln), topologies, None)
