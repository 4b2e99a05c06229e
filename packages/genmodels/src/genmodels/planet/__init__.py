"""PlaNet (Hafner et al. 2019): the recurrent state-space model, latent overshooting, CEM planning."""

from genmodels.planet.cem import cem, plan
from genmodels.planet.rssm import RSSM, RSSMTerms, State, rssm_loss
from genmodels.planet.training import Transitions, fit_rssm

__all__ = ["RSSM", "RSSMTerms", "State", "Transitions", "cem", "fit_rssm", "plan", "rssm_loss"]
