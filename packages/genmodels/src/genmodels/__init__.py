"""genmodels: Generative models: World Models, GECO VAEs, repulsive MMD-GAN, neural ODEs, flows and likelihood-based out-of-distribution detection (WAIC).

Status: planned. The package installs and its CLI runs, but no model or experiment is implemented
yet, so it registers no ``reproduce`` experiment.
"""

__all__: list[str] = []
__version__ = "0.1.0"
