"""Curiosity at scale and episodic curiosity (issue 19): Burda et al.'s forward-model curiosity in four
feature spaces (`features`), MiniGrid mazes from pixels with a noisy TV (`envs`), their configs
(`config`, torch-free). The study is `hrl.experiments.curiosity` (``reproduce hrl --only curiosity``).

Import the submodules directly; this package imports nothing heavy.
"""
