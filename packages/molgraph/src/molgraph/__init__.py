"""molgraph: Junction Tree VAE for molecular graphs: tree decomposition, encoders, a decoder that only emits valid molecules, latent optimisation.

Status: in development; no experiment is registered yet.
"""

__all__: list[str] = []
__version__ = "0.1.0"
