"""``reproduce genmodels``: the package's sub-experiments, by name (``--only vae``).

Each entry imports its module when it runs, so listing or choosing experiments stays light.
"""

from __future__ import annotations

from core.cli import RunOptions
from core.results import ResultTable

__all__ = ["EXPERIMENTS"]


def _vae(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.vae import run

    return run(options)


def _world_models(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.world_models import run

    return run(options)


def _latent_dynamics(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.latent_dynamics import run

    return run(options)


def _tdvae_mnist(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.tdvae_mnist import run

    return run(options)


def _planet_dmc(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.latent_dynamics import run_dmc

    return run_dmc(options)


def _causal_infogan(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.causal_infogan import run

    return run(options)


def _likelihood(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.likelihood import run

    return run(options)


def _mmd_gan(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.mmd_gan import run

    return run(options)


def _neural_ode(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.neural_ode import run

    return run(options)


def _latent_ode(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.latent_ode import run

    return run(options)


def _meta(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.meta import run

    return run(options)


def _update_rule(options: RunOptions) -> list[ResultTable]:
    from genmodels.experiments.update_rule import run

    return run(options)


EXPERIMENTS = {
    "vae": _vae,
    "world-models": _world_models,
    "latent-dynamics": _latent_dynamics,
    "tdvae-mnist": _tdvae_mnist,
    "planet-dmc": _planet_dmc,
    "causal-infogan": _causal_infogan,
    "likelihood": _likelihood,
    "mmd-gan": _mmd_gan,
    "neural-ode": _neural_ode,
    "latent-ode": _latent_ode,
    "meta": _meta,
    "update-rule": _update_rule,
}
"""Sub-experiments in the order `reproduce genmodels` runs them."""
