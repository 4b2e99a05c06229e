"""MAX on continuous tasks (Shyam, Jaskowski and Gomez, ICML 2019): Gaussian forward-model ensembles,
the Jensen-Renyi novelty, SAC trained inside the ensemble (`explorer.ContinuousMAX`), and the
coverage measure of its maze study (`coverage`). ``config`` is torch-free."""

from hrl.active_exploration.config import CONTINUOUS_METHODS, ContinuousMAXConfig

__all__ = ["CONTINUOUS_METHODS", "ContinuousMAXConfig"]
