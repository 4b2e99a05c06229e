"""Configs of the curiosity modules, torch-free so ``hrl --help`` and the studies can read them.

`CuriosityConfig`: Burda et al. (2019)'s forward-model curiosity in a feature space;
`EpisodicConfig`: Savinov et al. (2019)'s episodic curiosity through reachability.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError
from hrl.config import _number_in, _positive_int, _seed

__all__ = ["FEATURE_SPACES", "CuriosityConfig", "EpisodicConfig"]

FEATURE_SPACES = ("pixels", "random", "vae", "idf")
"""Burda et al.'s four feature spaces: raw pixels, a frozen random CNN, a VAE's posterior mean,
inverse-dynamics features."""


@dataclass(frozen=True)
class CuriosityConfig:
    """Forward-model curiosity in a feature space (Burda, Edwards, Pathak, Storkey, Darrell and
    Efros, "Large-Scale Study of Curiosity-Driven Learning", ICLR 2019).

    Defaults are the paper's where it gives them (512 features, Adam 1e-4, the dynamics and
    feature losses optimised with PPO's 3 epochs of 8 minibatches per rollout).

    Attributes:
        features: one of `FEATURE_SPACES`.
        feature_dim: width of phi(s) for the CNN feature spaces (pixels: the image itself).
        hidden: width of the forward model's hidden layers (and of the inverse model / VAE decoder).
        lr: Adam step size of the forward model and of a learnt feature network.
        epochs: passes over each rollout's transitions per `update`.
        minibatches: minibatches per pass.
        seed: seeds the initialisation and the minibatch order.
    """

    features: str = "random"
    feature_dim: int = 512
    hidden: int = 512
    lr: float = 1e-4
    epochs: int = 3
    minibatches: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "CuriosityConfig"
        if self.features not in FEATURE_SPACES:
            raise InputError(f"{owner}.features must be one of {FEATURE_SPACES}", item=self.features)
        for name in ("feature_dim", "hidden", "epochs", "minibatches"):
            _positive_int(owner, name, getattr(self, name))
        _number_in(owner, "lr", self.lr, 0.0, float("inf"), open_low=True)
        _seed(owner, self.seed)


@dataclass(frozen=True)
class EpisodicConfig:
    """Episodic curiosity through reachability (Savinov, Raichuk, Marinier, Vincent, Pollefeys,
    Lillicrap and Gelly, ICLR 2019).

    The reachability network R = C(E(o_i), E(o_j)) is trained on pairs of one trajectory: positive
    (reachable) when at most `k` steps apart, negative when at least `gamma * k` apart. The bonus of
    o is ``alpha * (beta - F)``, F the `percentile` of C(M, E(o)) over the episodic memory M; o's
    embedding is added to M when F < `novelty_threshold` (the paper's b_novelty = 0 on the bonus is
    F < beta), replacing a random slot when M is full; the memory is emptied at every episode start.

    Defaults are the paper's (k = 5, gamma = 5, memory 200, percentile 90, alpha = 1, beta = 0.5,
    novelty threshold 0 on the bonus: F < beta), except the embedding width (512 there, a ResNet-18).

    Attributes:
        k: steps within which two observations count as reachable.
        gamma: negatives are at least ``gamma * k`` steps apart.
        memory: episodic memory slots.
        percentile: F's percentile of the similarities to the memory, in (0, 100].
        alpha, beta: the bonus ``alpha * (beta - F)``.
        novelty_threshold: F below which o is stored.
        embedding_dim: width of E(o).
        hidden: width of the comparator's hidden layers.
        lr: Adam step size of the R-network.
        epochs, minibatches: passes and minibatches of `fit_reachability`.
        online_pairs: 0 (default): R stays as `fit_reachability` left it (the paper's pre-trained
            variant); > 0: every `update` also trains R on this many fresh pairs from the agent's
            own recent episodes, in `minibatches` minibatches (the paper's online variant).
        online_episodes: how many of the agent's most recent episodes the online pairs come from.
        seed: seeds the initialisation, the pair sampling and the memory replacement.
    """

    k: int = 5
    gamma: int = 5
    memory: int = 200
    percentile: float = 90.0
    alpha: float = 1.0
    beta: float = 0.5
    novelty_threshold: float = 0.5
    embedding_dim: int = 64
    hidden: int = 64
    lr: float = 1e-4
    epochs: int = 1
    minibatches: int = 4
    online_pairs: int = 0
    online_episodes: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        owner = "EpisodicConfig"
        for name in (
            "k",
            "gamma",
            "memory",
            "embedding_dim",
            "hidden",
            "epochs",
            "minibatches",
            "online_episodes",
        ):
            _positive_int(owner, name, getattr(self, name))
        if (
            not isinstance(self.online_pairs, int)
            or isinstance(self.online_pairs, bool)
            or self.online_pairs < 0
        ):
            raise InputError(f"{owner}.online_pairs must be a non-negative integer", item=self.online_pairs)
        if self.gamma < 2:
            raise InputError(f"{owner}.gamma must be at least 2 (a gap between the classes)", item=self.gamma)
        _number_in(owner, "percentile", self.percentile, 0.0, 100.0, open_low=True)
        _number_in(owner, "alpha", self.alpha, 0.0, float("inf"), open_low=True)
        _number_in(owner, "beta", self.beta, 0.0, 1.0, open_low=False)
        _number_in(owner, "novelty_threshold", self.novelty_threshold, 0.0, 1.0, open_low=False)
        _number_in(owner, "lr", self.lr, 0.0, float("inf"), open_low=True)
        _seed(owner, self.seed)
