"""hrl: Hierarchical reinforcement learning: HIRO (two-level TD3 with off-policy goal relabelling), then skills (DIAYN) and curiosity-style intrinsic rewards.

Status: planned. The package installs and its CLI runs, but no model or experiment is implemented
yet, so it registers no ``reproduce`` experiment.
"""

__all__: list[str] = []
__version__ = "0.1.0"
