"""neurosat: NeuroSAT: SR(n) generation, literal-clause message passing trained on SAT/UNSAT bits only, assignment decoding.

Status: in development; no experiment is registered yet.
"""

__all__: list[str] = []
__version__ = "0.1.0"
