"""Data sets: the study's DS1-DS5 (downloaded by ``phylo-marglik data fetch`` or read from a folder
you name, never bundled; see `phylo_marglik.study_data` for the lookup order) and a simulated
case (an alignment simulated along a known tree) that runs anywhere when asked for by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from phylo_marglik.alignment import STATES, Alignment, SitePatterns, compress_patterns, read_alignment
from phylo_marglik.study_data import (
    STUDY_DATASETS,
    DataLocation,
    dataset_files,
    fetch_study_data,
    locate_study_data,
)
from phylo_marglik.substitution import JC69, SubstitutionModel
from phylo_marglik.tree import Topology, parse_newick, read_credible_set

__all__ = [
    "STUDY_DATASETS",
    "DataLocation",
    "TopologySet",
    "fetch_study_data",
    "load_study_dataset",
    "load_topology_set",
    "locate_study_data",
    "simulate_alignment",
    "simulated_case",
    "study_data_dir",
]


@dataclass(frozen=True)
class TopologySet:
    """An alignment with a list of candidate topologies and (optionally) their reference
    posterior probabilities (the study's SRF column).

    Attributes:
        name: data-set name.
        patterns: the compressed alignment.
        topologies: the candidate topologies.
        reference: (T,) reference probabilities, or None when unknown.
        data: where the case came from (folder, origin, files; or how it was simulated), the
            ``data=`` record of every result table computed on it.
    """

    name: str
    patterns: SitePatterns
    topologies: tuple[Topology, ...]
    reference: np.ndarray | None
    data: Any = None


def study_data_dir(data: str | os.PathLike[str] | None = None, names: tuple[str, ...] = ("DS2",)) -> Path:
    """Folder of the study's data by the lookup order of `phylo_marglik.study_data`.

    Raises:
        InputError: when no folder holds the files of `names` (saying how to get them).
    """
    return locate_study_data(names, data).folder


def load_topology_set(
    alignment: str | os.PathLike[str], trees: str | os.PathLike[str], name: str = ""
) -> TopologySet:
    """Read an alignment and a tree list (``<prob>\\t<newick>`` lines or bare Newick lines)."""
    aln = read_alignment(alignment)
    topologies, probabilities = read_credible_set(trees, aln.taxa)
    reference = None
    if all(p is not None for p in probabilities):
        reference = np.array(probabilities, dtype=np.float64)
    record = {"files": [str(Path(alignment).resolve()), str(Path(trees).resolve())]}
    return TopologySet(
        name or Path(alignment).stem, compress_patterns(aln), tuple(topologies), reference, record
    )


def load_study_dataset(name: str, data: str | os.PathLike[str] | None = None) -> TopologySet:
    """One of the study's data sets (``DS1`` ... ``DS5``, ``DS3s``) with its SRF probabilities.

    Args:
        name: the data set.
        data: a folder holding its files; default the lookup order of `phylo_marglik.study_data`
            ($PHYLO_MARGLIK_DATA, the cache of ``phylo-marglik data fetch``, ../shared/data beside
            a checkout).

    Raises:
        InputError: unknown name, or no folder with its files (the message says how to get them).
    """
    files = dataset_files(name)
    location = locate_study_data((name,), data)
    case = load_topology_set(location.folder / files[0], location.folder / files[1], name)
    return TopologySet(
        case.name,
        case.patterns,
        case.topologies,
        case.reference,
        {"dataset": name, **location.describe(files)},
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
    record = {"dataset": "simulated", "how": f"phylo_marglik.simulated_case(n_sites={n_sites}, seed={seed})"}
    return TopologySet("simulated", compress_patterns(aln), topologies, None, record)
