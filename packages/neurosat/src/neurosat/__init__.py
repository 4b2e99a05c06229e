"""neurosat: NeuroSAT (Selsam et al., ICLR 2019), a SAT classifier trained on single-bit supervision.

SR(n) pair generation checked by PySAT, DIMACS / PySAT `CNF` input and output, reductions of graph
problems to SAT, the literal-clause message-passing network batched as one disjoint graph,
assignment decoding (paired 2-means and vote sign, verified by evaluation), training (resumable,
distributed under torchrun) and a shipped pretrained model.

    >>> from neurosat import NeuroSAT, NeuroSATConfig, TrainConfig, fit, generate_sr, pretrained, solve
    >>> model = pretrained()                   # bundled weights, no download
    >>> solve(cnf, model, rounds=200)          # a verified PySAT-style model [1, -2, ...] or None

``import neurosat`` is cheap: names are loaded from their modules on first use (PEP 562), so
torch and PySAT are imported only when something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from neurosat.bundled import pretrained
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
    from neurosat.config import NeuroSATConfig, TrainConfig, TrainingRun
    from neurosat.dataset import load_problems, save_problems
    from neurosat.decode import DecodeResult, cluster_sides, decode, satisfied
    from neurosat.evaluation import RoundCurves, accuracy, predict_proba, round_curves, solve
    from neurosat.graph import ProblemBatch, batch_problems, batches_by_nodes
    from neurosat.model import NeuroSAT, NeuroSATState
    from neurosat.reductions import (
        REDUCTIONS,
        clique,
        colouring,
        dominating_set,
        graph_problems,
        vertex_cover,
    )
    from neurosat.sr import SRConfig, generate_sr, solve_label, sr_pair
    from neurosat.train import TrainHistory, fit

_WHERE = {
    **dict.fromkeys(
        [
            "Problem",
            "evaluate",
            "make_problem",
            "parse_dimacs",
            "problem_from_cnf",
            "read_dimacs",
            "to_dimacs",
            "write_dimacs",
        ],
        "neurosat.cnf",
    ),
    **dict.fromkeys(["NeuroSATConfig", "TrainConfig", "TrainingRun"], "neurosat.config"),
    **dict.fromkeys(["load_problems", "save_problems"], "neurosat.dataset"),
    **dict.fromkeys(["DecodeResult", "cluster_sides", "decode", "satisfied"], "neurosat.decode"),
    **dict.fromkeys(
        ["RoundCurves", "accuracy", "predict_proba", "round_curves", "solve"], "neurosat.evaluation"
    ),
    **dict.fromkeys(["ProblemBatch", "batch_problems", "batches_by_nodes"], "neurosat.graph"),
    **dict.fromkeys(["NeuroSAT", "NeuroSATState"], "neurosat.model"),
    "pretrained": "neurosat.bundled",
    **dict.fromkeys(
        ["REDUCTIONS", "clique", "colouring", "dominating_set", "graph_problems", "vertex_cover"],
        "neurosat.reductions",
    ),
    **dict.fromkeys(["SRConfig", "generate_sr", "solve_label", "sr_pair"], "neurosat.sr"),
    **dict.fromkeys(["TrainHistory", "fit"], "neurosat.train"),
}

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
    "TrainingRun",
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
    "pretrained",
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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
