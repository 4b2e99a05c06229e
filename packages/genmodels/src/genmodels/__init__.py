"""genmodels: deep generative models (VAEs, GECO, World Models, TD-VAE, PlaNet, Causal InfoGAN; more planned, see the README).

``import genmodels`` is cheap: the names below are loaded from their modules on first use
(PEP 562), so torch is imported only when a model is touched, never by ``genmodels --help``.

>>> from genmodels import load_images, VAERunConfig, fit_vae
>>> train, test = load_images("digits").split(0.2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from genmodels.causal_infogan import CausalInfoGAN, fit_causal_infogan
    from genmodels.data import (
        ImageSet,
        images_from_array,
        load_digits,
        load_image_folder,
        load_images,
        load_mnist_5000,
    )
    from genmodels.flows import Glow, fit_flow, load_flow
    from genmodels.geco import GECO
    from genmodels.maze import Maze
    from genmodels.meta.cactus import few_shot_accuracy, fit_meta, kmeans_partitions
    from genmodels.meta.config import CactusConfig, MetaConfig
    from genmodels.meta.fewshot import PartitionSampler, TaskSampler
    from genmodels.ood import aupr, auroc, waic
    from genmodels.ood_data import ood_sets
    from genmodels.planet import RSSM, cem, rssm_loss
    from genmodels.sequences import harmonic_oscillator
    from genmodels.tdvae import TDVAE, fit_tdvae, tdvae_loss
    from genmodels.train import TrainConfig, run_epochs
    from genmodels.vae import (
        VAE,
        VAEConfig,
        build_vae,
        elbo,
        gaussian_kl,
        importance_log_likelihood,
        iwae_bound,
    )
    from genmodels.vae.objectives import Objective
    from genmodels.vae.training import VAERun, evaluate_vae, fit_vae

_WHERE = {
    "CausalInfoGAN": "genmodels.causal_infogan",
    "CausalInfoGANConfig": "genmodels.config",
    "CausalInfoGANRunConfig": "genmodels.config",
    "fit_causal_infogan": "genmodels.causal_infogan",
    "Maze": "genmodels.maze",
    "ImageSet": "genmodels.data",
    "images_from_array": "genmodels.data",
    "load_digits": "genmodels.data",
    "load_image_folder": "genmodels.data",
    "load_images": "genmodels.data",
    "load_mnist_5000": "genmodels.data",
    "GECO": "genmodels.geco",
    "FlowConfig": "genmodels.config",
    "FlowRunConfig": "genmodels.config",
    "Glow": "genmodels.flows",
    "fit_flow": "genmodels.flows",
    "load_flow": "genmodels.flows",
    "aupr": "genmodels.ood",
    "auroc": "genmodels.ood",
    "waic": "genmodels.ood",
    "ood_sets": "genmodels.ood_data",
    "CEMConfig": "genmodels.config",
    "RSSM": "genmodels.planet",
    "RSSMConfig": "genmodels.config",
    "cem": "genmodels.planet",
    "rssm_loss": "genmodels.planet",
    "harmonic_oscillator": "genmodels.sequences",
    "TDVAE": "genmodels.tdvae",
    "TDVAEConfig": "genmodels.config",
    "TDVAERunConfig": "genmodels.config",
    "fit_tdvae": "genmodels.tdvae",
    "tdvae_loss": "genmodels.tdvae",
    "TrainConfig": "genmodels.config",
    "run_epochs": "genmodels.train",
    "VAE": "genmodels.vae",
    "VAEConfig": "genmodels.config",
    "build_vae": "genmodels.vae",
    "elbo": "genmodels.vae",
    "gaussian_kl": "genmodels.vae",
    "importance_log_likelihood": "genmodels.vae",
    "iwae_bound": "genmodels.vae",
    "Objective": "genmodels.vae.objectives",
    "ObjectiveConfig": "genmodels.config",
    "VAERun": "genmodels.vae.training",
    "VAERunConfig": "genmodels.config",
    "evaluate_vae": "genmodels.vae.training",
    "fit_vae": "genmodels.vae.training",
    "CactusConfig": "genmodels.meta.config",
    "MetaConfig": "genmodels.meta.config",
    "PartitionSampler": "genmodels.meta.fewshot",
    "TaskSampler": "genmodels.meta.fewshot",
    "few_shot_accuracy": "genmodels.meta.cactus",
    "fit_meta": "genmodels.meta.cactus",
    "kmeans_partitions": "genmodels.meta.cactus",
}

__all__ = [
    "GECO",
    "RSSM",
    "TDVAE",
    "VAE",
    "CEMConfig",
    "CactusConfig",
    "CausalInfoGAN",
    "CausalInfoGANConfig",
    "CausalInfoGANRunConfig",
    "FlowConfig",
    "FlowRunConfig",
    "Glow",
    "ImageSet",
    "Maze",
    "MetaConfig",
    "Objective",
    "ObjectiveConfig",
    "PartitionSampler",
    "RSSMConfig",
    "TDVAEConfig",
    "TDVAERunConfig",
    "TaskSampler",
    "TrainConfig",
    "VAEConfig",
    "VAERun",
    "VAERunConfig",
    "aupr",
    "auroc",
    "build_vae",
    "cem",
    "elbo",
    "evaluate_vae",
    "few_shot_accuracy",
    "fit_causal_infogan",
    "fit_flow",
    "fit_meta",
    "fit_tdvae",
    "fit_vae",
    "gaussian_kl",
    "harmonic_oscillator",
    "images_from_array",
    "importance_log_likelihood",
    "iwae_bound",
    "kmeans_partitions",
    "load_digits",
    "load_flow",
    "load_image_folder",
    "load_images",
    "load_mnist_5000",
    "ood_sets",
    "rssm_loss",
    "run_epochs",
    "tdvae_loss",
    "waic",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
