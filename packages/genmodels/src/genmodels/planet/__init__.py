"""PlaNet (Hafner et al. 2019): the recurrent state-space model, latent overshooting, CEM planning."""

from genmodels.planet.cem import cem, plan
from genmodels.planet.rssm import RSSM, RSSMTerms, State, rssm_loss

__all__ = ["RSSM", "RSSMTerms", "State", "cem", "plan", "rssm_loss"]
