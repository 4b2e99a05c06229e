"""neurosat: NeuroSAT (Selsam et al., ICLR 2019), a SAT classifier trained on single-bit supervision.

SR(n) pair generation checked by PySAT, DIMACS / PySAT `CNF` input and output, reductions of graph
problems to SAT, the literal-clause message-passing network batched as one disjoint graph,
assignment decoding (paired 2-means and vote sign, verified by evaluation) and training.

    >>> from neurosat import NeuroSAT, NeuroSATConfig, TrainConfig, fit, generate_sr, solve
    >>> train = generate_sr(1000, 3, 6, seed=0)
    >>> model = NeuroSAT(NeuroSATConfig(d=32, rounds=8))
    >>> fit(model, train, TrainConfig(epochs=10, learning_rate=1e-3, max_nodes=3700))
    >>> solve(cnf, model, rounds=32)   # a PySAT-style model [1, -2, ...] or None
"""

from neurosat.cnf import (
    Problem,
    evaluate,
    make_problem,
    parse_dimacs,
    problem_from_cnf,
    read_dimacs,
    to_dimacs,
    write_dimacs,
)
from neurosat.dataset import load_problems, save_problems
from neurosat.decode import DecodeResult, cluster_sides, decode, satisfied
from neurosat.evaluation import RoundCurves, accuracy, predict_proba, round_curves, solve
from neurosat.graph import ProblemBatch, batch_problems, batches_by_nodes
from neurosat.model import NeuroSAT, NeuroSATConfig, NeuroSATState
from neurosat.reductions import REDUCTIONS, clique, colouring, dominating_set, graph_problems, vertex_cover
from neurosat.sr import SRConfig, generate_sr, solve_label, sr_pair
from neurosat.train import TrainConfig, TrainHistory, fit

__all__ = [
    "REDUCTIONS",
    "DecodeResult",
    "NeuroSAT",
    "NeuroSATConfig",
    "NeuroSATState",
    "Problem",
    "ProblemBatch",
    "RoundCurves",
    "SRConfig",
    "TrainConfig",
    "TrainHistory",
    "accuracy",
    "batch_problems",
    "batches_by_nodes",
    "clique",
    "cluster_sides",
    "colouring",
    "decode",
    "dominating_set",
    "evaluate",
    "fit",
    "generate_sr",
    "graph_problems",
    "load_problems",
    "make_problem",
    "parse_dimacs",
    "predict_proba",
    "problem_from_cnf",
    "read_dimacs",
    "round_curves",
    "satisfied",
    "save_problems",
    "solve",
    "solve_label",
    "sr_pair",
    "to_dimacs",
    "vertex_cover",
    "write_dimacs",
]
__version__ = "0.1.0"
