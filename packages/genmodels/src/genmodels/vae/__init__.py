"""VAE family: MLP and convolutional VAEs, Bernoulli and Gaussian likelihoods, ELBO and IWAE bounds."""

from genmodels.vae.bounds import ELBOTerms, elbo, gaussian_kl, importance_log_likelihood, iwae_bound
from genmodels.vae.grids import image_grid, save_image_grid
from genmodels.vae.likelihoods import LIKELIHOODS, Bernoulli, Gaussian, Likelihood, make_likelihood
from genmodels.vae.networks import VAE, VAEConfig, build_vae

__all__ = [
    "LIKELIHOODS",
    "VAE",
    "Bernoulli",
    "ELBOTerms",
    "Gaussian",
    "Likelihood",
    "VAEConfig",
    "build_vae",
    "elbo",
    "gaussian_kl",
    "image_grid",
    "importance_log_likelihood",
    "iwae_bound",
    "make_likelihood",
    "save_image_grid",
]
