"""molgraph: Junction Tree VAE for molecular graphs (Jin, Barzilay and Jaakkola, ICML 2018).

Tree decomposition of molecules into junction trees of clusters, assembly of clusters back into
molecules that RDKit always sanitises, the JT-VAE (tree and graph encoders, tree decoder with
feasibility masking, graph decoder scoring candidate attachments), sampling, reconstruction,
interpolation and property optimisation in latent space. SMILES in, SMILES out.
"""

from molgraph.assembly import Candidate, assemble_tree, enumerate_assemblies, reassemble
from molgraph.chem import canonical_smiles, parse_smiles
from molgraph.data import bundled_smiles, fetch_moses, load_smiles, moses_smiles, read_smiles
from molgraph.dataset import MoleculeSample, PreparedSet, prepare, prepare_one
from molgraph.evaluate import prior_quality, reconstruction_accuracy
from molgraph.metrics import novelty, penalized_logp, tanimoto, uniqueness, validity
from molgraph.model import JTVAE, JTVAEConfig
from molgraph.optimize import (
    BOResult,
    OptimisationResult,
    PropertyPredictor,
    bayesian_optimisation,
    constrained_optimisation,
    fit_property_predictor,
)
from molgraph.stereo import choose_stereo, stereo_candidates
from molgraph.train import TrainConfig, TrainHistory, train
from molgraph.tree import JunctionTree, TreeNode, tree_decompose
from molgraph.vocab import Vocab

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
    "TrainConfig",
    "TrainHistory",
    "TreeNode",
    "Vocab",
    "assemble_tree",
    "bayesian_optimisation",
    "bundled_smiles",
    "canonical_smiles",
    "choose_stereo",
    "constrained_optimisation",
    "enumerate_assemblies",
    "fetch_moses",
    "fit_property_predictor",
    "load_smiles",
    "moses_smiles",
    "novelty",
    "parse_smiles",
    "penalized_logp",
    "prepare",
    "prepare_one",
    "prior_quality",
    "read_smiles",
    "reassemble",
    "reconstruction_accuracy",
    "stereo_candidates",
    "tanimoto",
    "train",
    "tree_decompose",
    "uniqueness",
    "validity",
]
__version__ = "0.1.0"
