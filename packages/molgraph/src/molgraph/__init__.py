"""molgraph: Junction Tree VAE for molecular graphs (Jin, Barzilay and Jaakkola, ICML 2018).

Tree decomposition of molecules into junction trees of clusters, assembly of clusters back into
molecules that RDKit always sanitises, the JT-VAE (tree and graph encoders, tree decoder with
feasibility masking, graph decoder scoring candidate attachments), sampling, reconstruction,
interpolation and property optimisation in latent space. SMILES in, SMILES out.

``import molgraph`` is light: each public name is imported from its module on first use (PEP 562),
so torch, RDKit and the rest load only when something needs them (``molgraph --help`` needs none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:  # what static tools see; at run time `__getattr__` loads names on first use
    from molgraph.assembly import (
        Candidate,
        RoundTrip,
        assemble_tree,
        enumerate_assemblies,
        reassemble,
        round_trip,
    )
    from molgraph.chem import canonical_smiles, parse_smiles
    from molgraph.config import JTVAEConfig, TrainConfig
    from molgraph.data import (
        SmilesRecord,
        bundled_smiles,
        fetch_moses,
        load_smiles,
        moses_smiles,
        read_records,
        read_smiles,
    )
    from molgraph.dataset import MoleculeSample, PreparedSet, build_vocab, prepare, prepare_one
    from molgraph.evaluate import prior_quality, reconstruction_accuracy
    from molgraph.metrics import novelty, penalized_logp, tanimoto, uniqueness, validity
    from molgraph.model import JTVAE
    from molgraph.moses_metrics import moses_metrics
    from molgraph.optimize import (
        BOResult,
        OptimisationResult,
        PropertyPredictor,
        bayesian_optimisation,
        constrained_optimisation,
        fit_property_predictor,
    )
    from molgraph.pretrained import pretrained
    from molgraph.stereo import choose_stereo, stereo_candidates
    from molgraph.training import TrainHistory, train
    from molgraph.tree import JunctionTree, TreeNode, tree_decompose
    from molgraph.vocab import Vocab

_WHERE = {
    "BOResult": "molgraph.optimize",
    "Candidate": "molgraph.assembly",
    "JTVAE": "molgraph.model",
    "JTVAEConfig": "molgraph.config",
    "JunctionTree": "molgraph.tree",
    "MoleculeSample": "molgraph.dataset",
    "OptimisationResult": "molgraph.optimize",
    "PreparedSet": "molgraph.dataset",
    "PropertyPredictor": "molgraph.optimize",
    "TrainConfig": "molgraph.config",
    "TrainHistory": "molgraph.training",
    "TreeNode": "molgraph.tree",
    "Vocab": "molgraph.vocab",
    "assemble_tree": "molgraph.assembly",
    "bayesian_optimisation": "molgraph.optimize",
    "bundled_smiles": "molgraph.data",
    "canonical_smiles": "molgraph.chem",
    "choose_stereo": "molgraph.stereo",
    "constrained_optimisation": "molgraph.optimize",
    "enumerate_assemblies": "molgraph.assembly",
    "fetch_moses": "molgraph.data",
    "fit_property_predictor": "molgraph.optimize",
    "load_smiles": "molgraph.data",
    "moses_metrics": "molgraph.moses_metrics",
    "moses_smiles": "molgraph.data",
    "novelty": "molgraph.metrics",
    "parse_smiles": "molgraph.chem",
    "penalized_logp": "molgraph.metrics",
    "prepare": "molgraph.dataset",
    "prepare_one": "molgraph.dataset",
    "pretrained": "molgraph.pretrained",
    "prior_quality": "molgraph.evaluate",
    "read_smiles": "molgraph.data",
    "reassemble": "molgraph.assembly",
    "round_trip": "molgraph.assembly",
    "RoundTrip": "molgraph.assembly",
    "build_vocab": "molgraph.dataset",
    "read_records": "molgraph.data",
    "SmilesRecord": "molgraph.data",
    "reconstruction_accuracy": "molgraph.evaluate",
    "stereo_candidates": "molgraph.stereo",
    "tanimoto": "molgraph.metrics",
    "train": "molgraph.training",
    "tree_decompose": "molgraph.tree",
    "uniqueness": "molgraph.metrics",
    "validity": "molgraph.metrics",
}

__all__ = [
    "JTVAE",
    "BOResult",
    "Candidate",
    "JTVAEConfig",
    "JunctionTree",
    "MoleculeSample",
    "OptimisationResult",
    "PreparedSet",
    "PropertyPredictor",
    "RoundTrip",
    "SmilesRecord",
    "TrainConfig",
    "TrainHistory",
    "TreeNode",
    "Vocab",
    "assemble_tree",
    "bayesian_optimisation",
    "build_vocab",
    "bundled_smiles",
    "canonical_smiles",
    "choose_stereo",
    "constrained_optimisation",
    "enumerate_assemblies",
    "fetch_moses",
    "fit_property_predictor",
    "load_smiles",
    "moses_metrics",
    "moses_smiles",
    "novelty",
    "parse_smiles",
    "penalized_logp",
    "prepare",
    "prepare_one",
    "pretrained",
    "prior_quality",
    "read_records",
    "read_smiles",
    "reassemble",
    "reconstruction_accuracy",
    "round_trip",
    "stereo_candidates",
    "tanimoto",
    "train",
    "tree_decompose",
    "uniqueness",
    "validity",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
