"""The configs of every genmodels model and trainer: frozen dataclasses whose defaults are the papers'.

They live in one torch-free module so that ``genmodels --help`` (and every sub-command's help,
whose option defaults are read from these dataclasses) never imports torch. Each model module
re-exports its own config (``genmodels.vae.VAEConfig`` is ``genmodels.config.VAEConfig``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.errors import InputError
from core.resume import extendable

__all__ = [
    "LIKELIHOODS",
    "OBJECTIVES",
    "CEMConfig",
    "CMAConfig",
    "CNFRunConfig",
    "CausalInfoGANConfig",
    "CausalInfoGANRunConfig",
    "FlowConfig",
    "FlowRunConfig",
    "LatentODERunConfig",
    "MDNRNNConfig",
    "MMDGANConfig",
    "MMDGANRunConfig",
    "MemoryRunConfig",
    "ODENetRunConfig",
    "ObjectiveConfig",
    "PlaNetConfig",
    "RSSMConfig",
    "RSSMRunConfig",
    "SpiralConfig",
    "TDVAEConfig",
    "TDVAERunConfig",
    "TrainConfig",
    "VAEConfig",
    "VAERunConfig",
    "WorldModelsConfig",
]

LIKELIHOODS = ("bernoulli", "gaussian")
"""Observation models of the VAE family (`genmodels.vae.likelihoods`)."""

OBJECTIVES = ("elbo", "beta", "warmup", "geco", "kl-tolerance")
"""Training objectives of the VAE family (`genmodels.vae.objectives`)."""


# --- training (genmodels.train) ---------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation of one run.

    Attributes:
        epochs: passes over the training data (extendable: raise it to continue a finished run).
        batch_size: images (or sequences) per step.
        learning_rate: Adam step size.
        seed: seeds initialisation, shuffling and every reparameterisation draw.
        checkpoint_every: epochs between checkpoints (the last epoch is always saved).
    """

    epochs: int = extendable(20)
    batch_size: int = 100
    learning_rate: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 1

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "checkpoint_every"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise InputError(f"{name} must be a positive integer", item=getattr(self, name))
        if not self.learning_rate > 0:
            raise InputError("learning_rate must be > 0", item=self.learning_rate)


# --- VAE family (genmodels.vae) ---------------------------------------------------------------


@dataclass(frozen=True)
class VAEConfig:
    """Architecture of a VAE.

    Attributes:
        architecture: "mlp", "conv", or "world-models" (V of Ha & Schmidhuber: 64x64x3 frames,
            encoder 32-64-128-256 channels of 4x4 stride-2 convolutions without padding, decoder
            of 5-5-6-6 transposed convolutions and a sigmoid; `channels` and `hidden` are unused).
        image_shape: ``(channels, height, width)`` of the data.
        latent_dim: size of z.
        hidden: widths of the MLP's hidden layers (encoder; the decoder mirrors them).
        channels: output channels of the convolutional encoder's layers (decoder mirrors them).
        likelihood: "bernoulli" or "gaussian".
        sigma: the Gaussian likelihood's fixed pixel standard deviation.
    """

    architecture: Literal["mlp", "conv", "world-models"] = "mlp"
    image_shape: tuple[int, ...] = (1, 28, 28)
    latent_dim: int = 20
    hidden: tuple[int, ...] = (400,)
    channels: tuple[int, ...] = (32, 64)
    likelihood: Literal["bernoulli", "gaussian"] = "bernoulli"
    sigma: float = 0.1

    def __post_init__(self) -> None:
        if self.architecture not in ("mlp", "conv", "world-models"):
            raise InputError(
                "unknown VAE architecture", item=self.architecture, expected="mlp, conv or world-models"
            )
        if self.architecture == "world-models" and tuple(self.image_shape) != (3, 64, 64):
            raise InputError(
                "the world-models VAE takes 64x64 RGB frames", item=f"image_shape {self.image_shape}"
            )
        if self.architecture == "world-models" and self.likelihood != "gaussian":
            raise InputError(
                "the world-models VAE ends in a sigmoid: use the gaussian likelihood", item=self.likelihood
            )
        if self.likelihood not in LIKELIHOODS:
            raise InputError("unknown likelihood", item=self.likelihood, expected=", ".join(LIKELIHOODS))
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise InputError("image_shape must be (channels, height, width)", item=self.image_shape)
        if self.latent_dim < 1 or any(w < 1 for w in (*self.hidden, *self.channels)):
            raise InputError("latent_dim, hidden and channels must be positive", item=self)
        if self.architecture == "conv":
            factor = 2 ** len(self.channels)
            _, height, width = self.image_shape
            if height % factor or width % factor:
                raise InputError(
                    f"the conv VAE halves the image {len(self.channels)} times: height and width must be "
                    f"divisible by {factor}",
                    item=f"image_shape {self.image_shape}",
                    expected="fewer channels entries, or resized images",
                )


@dataclass(frozen=True)
class ObjectiveConfig:
    """Which objective, and its settings (fields of the other objectives are ignored).

    Attributes:
        kind: "elbo", "beta", "warmup" or "geco".
        beta: the KL weight of "beta".
        warmup_steps: steps over which "warmup" raises the KL weight from 0 to 1.
        tolerance: GECO's tolerated RMS pixel error.
        alpha: GECO's moving-average factor (paper: 0.99).
        rate: GECO's multiplier speed (``lambda *= exp(rate * C_ma / (D tol^2))``).
        initial_lambda: GECO's starting multiplier.
        kl_tolerance: "kl-tolerance" (World Models' V): the batch-mean KL counts as at least
            ``kl_tolerance * latent_dim`` nats (the reference code's 0.5 per dimension).
    """

    kind: Literal["elbo", "beta", "warmup", "geco", "kl-tolerance"] = "elbo"
    beta: float = 4.0
    warmup_steps: int = 1000
    tolerance: float = 0.1
    alpha: float = 0.99
    rate: float = 0.01
    initial_lambda: float = 1.0
    kl_tolerance: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVES:
            raise InputError("unknown objective", item=self.kind, expected=", ".join(OBJECTIVES))
        if self.beta < 0 or self.warmup_steps < 1:
            raise InputError("beta must be >= 0 and warmup_steps >= 1", item=(self.beta, self.warmup_steps))


@dataclass(frozen=True)
class VAERunConfig:
    """Everything that defines a VAE run (stored in its checkpoint)."""

    model: VAEConfig = field(default_factory=VAEConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


# --- World Models (genmodels.world_models) -------------------------------------------------------


@dataclass(frozen=True)
class MDNRNNConfig:
    """M of World Models (paper: 256 LSTM units, 5 Gaussians, z of 32, CarRacing's 3 actions).

    Attributes:
        latent_dim: size of z (V's latent).
        action_dim: size of an action.
        hidden: LSTM units.
        gaussians: mixture components per latent dimension.
        reward_weight: weight of the reward regression (squared error) in M's loss.
        done_weight: weight of the done classification (cross-entropy) in M's loss.
    """

    latent_dim: int = 32
    action_dim: int = 3
    hidden: int = 256
    gaussians: int = 5
    reward_weight: float = 1.0
    done_weight: float = 1.0

    def __post_init__(self) -> None:
        if min(self.latent_dim, self.action_dim, self.hidden, self.gaussians) < 1:
            raise InputError("MDN-RNN sizes must be positive", item=self)


@dataclass(frozen=True)
class CMAConfig:
    """CMA-ES for C (paper: population 64, 16 rollouts per candidate).

    Attributes:
        population: candidates per generation.
        rollouts: episodes per candidate (its fitness is their mean return).
        generations: generations to run (extendable).
        sigma0: initial step size.
        workers: joblib processes scoring candidates (1: in this process).
        seed: seeds CMA-ES's own sampling.
        seed_base: first track seed of the training rollouts (evaluation uses other seeds).
    """

    population: int = 64
    rollouts: int = 16
    generations: int = extendable(100)
    sigma0: float = 0.1
    workers: int = 1
    seed: int = 0
    seed_base: int = 10_000

    def __post_init__(self) -> None:
        if min(self.population, self.rollouts, self.generations, self.workers) < 1 or self.population < 2:
            raise InputError(
                "population (>= 2), rollouts, generations and workers must be positive", item=self
            )
        if not self.sigma0 > 0:
            raise InputError("sigma0 must be > 0", item=self.sigma0)


@dataclass(frozen=True)
class MemoryRunConfig:
    """Training of M on V's latents of the collected episodes.

    Attributes:
        model: the MDN-RNN.
        train: optimisation (paper: batch 100 sequences, Adam 1e-3; ``epochs`` extendable).
        sequence_length: episodes are cut into windows of this many steps (the paper used whole
            1000-step episodes).
    """

    model: MDNRNNConfig = field(default_factory=MDNRNNConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, batch_size=100))
    sequence_length: int = 100

    def __post_init__(self) -> None:
        if self.sequence_length < 1:
            raise InputError("sequence_length must be >= 1", item=self.sequence_length)


def _vision_run() -> VAERunConfig:
    return VAERunConfig(
        model=VAEConfig(
            architecture="world-models",
            image_shape=(3, 64, 64),
            latent_dim=32,
            likelihood="gaussian",
            sigma=0.5**0.5,
        ),
        objective=ObjectiveConfig(kind="kl-tolerance", kl_tolerance=0.5),
        train=TrainConfig(epochs=10, batch_size=100, learning_rate=1e-4),
    )


@dataclass(frozen=True)
class WorldModelsConfig:
    """The whole World Models pipeline on CarRacing-v3 (defaults: the paper's, sec. 4 and appendix).

    Attributes:
        episodes: random-policy episodes collected (paper: 10,000).
        max_steps: steps per episode, for collection, training and evaluation (paper: 1000).
        collect_workers: joblib processes collecting episodes.
        vision: V's run (64x64x3 frames, z of 32, sum-of-squares reconstruction = Gaussian with
            sigma^2 = 1/2, KL tolerance 0.5 per dimension, Adam 1e-4, batch 100, 10 epochs).
        memory: M's run (256 LSTM units, 5 Gaussians).
        controller: CMA-ES for C in the real environment (population 64, 16 rollouts).
        dream_controller: CMA-ES for C inside the dream.
        temperatures: dream temperatures tau to train C at.
        evaluation_tracks: tracks each final controller is scored on (paper: 100).
    """

    episodes: int = 10_000
    max_steps: int = 1000
    collect_workers: int = 1
    vision: VAERunConfig = field(default_factory=_vision_run)
    memory: MemoryRunConfig = field(default_factory=MemoryRunConfig)
    controller: CMAConfig = field(default_factory=CMAConfig)
    dream_controller: CMAConfig = field(default_factory=CMAConfig)
    temperatures: tuple[float, ...] = (1.0, 1.15)
    evaluation_tracks: int = 100

    def __post_init__(self) -> None:
        if min(self.episodes, self.max_steps, self.collect_workers, self.evaluation_tracks) < 1:
            raise InputError(
                "episodes, max_steps, collect_workers and evaluation_tracks must be >= 1", item=self
            )
        if not self.temperatures or min(self.temperatures) <= 0:
            raise InputError("temperatures must be positive", item=self.temperatures)


# --- latent dynamics (genmodels.tdvae, genmodels.planet) ----------------------------------------


@dataclass(frozen=True)
class TDVAEConfig:
    """TD-VAE (Gregor et al. 2019) on vector observations (frames are flattened by the caller).

    Attributes:
        obs_dim: size of one observation x_t.
        belief_dim: LSTM units of the belief network b_t = RNN(x_1..x_t).
        latent_dim: size of the state z_t.
        hidden: width of the MLPs of the belief, smoothing, transition and decoder distributions.
        min_jump, max_jump: t2 - t1 is drawn uniformly from ``[min_jump, max_jump]``; the
            transition p_T(z2 | z1, t2 - t1) is told the jump (so one model jumps any distance
            in that range, and longer horizons chain jumps).
        likelihood: "gaussian" (fixed `sigma`) or "bernoulli" observations.
        sigma: the Gaussian observation standard deviation.
        frame: ``(height, width)`` of a one-channel frame, or None for vector observations. With a
            frame the observation embedding is a convolutional encoder and p_D a transposed-
            convolution decoder (`genmodels.tdvae.FrameEncoder` / `FrameDecoder`, width-circular
            padding); ``obs_dim`` must be ``height * width``, both divisible by 2.
        channels: channels of the first convolution of the frame encoder/decoder (doubled once).
    """

    obs_dim: int = 1
    belief_dim: int = 50
    latent_dim: int = 8
    hidden: int = 50
    min_jump: int = 1
    max_jump: int = 4
    likelihood: Literal["bernoulli", "gaussian"] = "gaussian"
    sigma: float = 0.1
    frame: tuple[int, int] | None = None
    channels: int = 16

    def __post_init__(self) -> None:
        if min(self.obs_dim, self.belief_dim, self.latent_dim, self.hidden, self.min_jump, self.channels) < 1:
            raise InputError("TD-VAE sizes and min_jump must be positive", item=self)
        if self.frame is not None:
            frame = tuple(self.frame)
            if (
                len(frame) != 2
                or min(frame) < 2
                or frame[0] % 2
                or frame[1] % 2
                or frame[0] * frame[1] != self.obs_dim
            ):
                raise InputError(
                    "TD-VAE frame must be (height, width), both even, with height * width = obs_dim",
                    item=f"frame {self.frame}, obs_dim {self.obs_dim}",
                )
            object.__setattr__(self, "frame", (int(frame[0]), int(frame[1])))
        if self.max_jump < self.min_jump:
            raise InputError("max_jump must be >= min_jump", item=(self.min_jump, self.max_jump))
        if self.likelihood not in LIKELIHOODS:
            raise InputError("unknown likelihood", item=self.likelihood, expected=", ".join(LIKELIHOODS))
        if not self.sigma > 0:
            raise InputError("sigma must be > 0", item=self.sigma)


@dataclass(frozen=True)
class TDVAERunConfig:
    """A TD-VAE training run: the model, the optimisation, and the (t1, t2) pairs drawn per sequence.

    Attributes:
        pairs: (t1, t2) pairs drawn per sequence per step (each adds one loss term).
    """

    model: TDVAEConfig = field(default_factory=TDVAEConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=50, batch_size=64))
    pairs: int = 4

    def __post_init__(self) -> None:
        if self.pairs < 1:
            raise InputError("pairs must be >= 1", item=self.pairs)


@dataclass(frozen=True)
class RSSMConfig:
    """PlaNet's recurrent state-space model (Hafner et al. 2019; defaults: the paper's sizes).

    Attributes:
        obs_dim: size of an observation vector (frames are embedded by the caller's encoder, or
            flattened); the observation and reward decoders read ``[h, s]``.
        action_dim: size of an action.
        deterministic: GRU units of the deterministic path h_t (paper: 200).
        stochastic: size of the stochastic state s_t (paper: 30).
        hidden: width of the dense layers (paper: 200).
        embedding: size of the observation embedding the posterior reads (paper: 1024 for frames).
        free_nats: the KL terms are not pushed below this many nats (paper: 3).
        overshooting: latent-overshooting distance D (1: the standard one-step objective).
        obs_sigma: fixed standard deviation of the Gaussian observation model.
        encoder: "mlp" (dense embedding and decoder of flat vectors) or "conv" (the paper's
            convolutional encoder and decoder of 64 x 64 RGB frames, `genmodels.planet.conv`:
            ``obs_dim`` must be 3 * 64 * 64 and ``embedding`` 32 * ``conv_depth``).
        conv_depth: channels of the first convolution (paper: 32).
    """

    obs_dim: int = 64
    action_dim: int = 1
    deterministic: int = 200
    stochastic: int = 30
    hidden: int = 200
    embedding: int = 1024
    free_nats: float = 3.0
    overshooting: int = 50
    obs_sigma: float = 1.0
    encoder: Literal["mlp", "conv"] = "mlp"
    conv_depth: int = 32

    def __post_init__(self) -> None:
        if self.encoder not in ("mlp", "conv"):
            raise InputError("unknown RSSM encoder", item=self.encoder, expected="mlp or conv")
        if self.encoder == "conv" and (self.obs_dim, self.embedding) != (3 * 64 * 64, 32 * self.conv_depth):
            raise InputError(
                "the conv encoder reads 64 x 64 RGB frames and embeds them in 32 * conv_depth features",
                item=f"obs_dim {self.obs_dim}, embedding {self.embedding}, conv_depth {self.conv_depth}",
                expected=f"obs_dim {3 * 64 * 64}, embedding {32 * self.conv_depth}",
            )
        sizes = (
            self.conv_depth,
            self.obs_dim,
            self.action_dim,
            self.deterministic,
            self.stochastic,
            self.hidden,
            self.embedding,
        )
        if min(sizes) < 1 or self.overshooting < 1:
            raise InputError("RSSM sizes and the overshooting distance must be >= 1", item=self)
        if self.free_nats < 0 or not self.obs_sigma > 0:
            raise InputError(
                "free_nats must be >= 0 and obs_sigma > 0", item=(self.free_nats, self.obs_sigma)
            )


@dataclass(frozen=True)
class CEMConfig:
    """PlaNet's planner: the cross-entropy method over action sequences (paper's settings).

    Attributes:
        horizon: planning horizon in (repeated) actions.
        candidates: action sequences sampled per iteration.
        iterations: refits of the Gaussian belief over action sequences.
        top: best candidates the belief is refitted to.
    """

    horizon: int = 12
    candidates: int = 1000
    iterations: int = 10
    top: int = 100

    def __post_init__(self) -> None:
        if min(self.horizon, self.candidates, self.iterations, self.top) < 1 or self.top > self.candidates:
            raise InputError("CEM sizes must be >= 1 and top <= candidates", item=self)


@dataclass(frozen=True)
class RSSMRunConfig:
    """Training of PlaNet's RSSM on fixed sequences (paper: batches of 50 chunks of 50 steps, Adam 1e-3).

    Attributes:
        model: the RSSM (its ``overshooting`` distance is the objective's D).
        train: optimisation (``epochs`` extendable); Adam with epsilon 1e-4 and gradient norm clipped
            to 1000, as in the paper.
    """

    model: RSSMConfig = field(default_factory=RSSMConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=100, batch_size=50))


PLANET_TASKS = (
    "pointmass",
    "pointmass-centre",
    "cartpole-swingup",
    "reacher-easy",
    "cheetah-run",
    "finger-spin",
    "cup-catch",
    "walker-walk",
)
"""PlaNet's tasks: the two point masses written here, then the paper's six DeepMind Control tasks."""


@dataclass(frozen=True)
class PlaNetConfig:
    """PlaNet's whole loop (Hafner et al. 2019, sec. 2 and appendix; defaults the paper's where it has one).

    Attributes:
        env: the control task: "pointmass", the pixel point mass of `genmodels.planet.pointmass`
            with a target drawn per episode, or "pointmass-centre", its target fixed at the centre
            (dm_control's point_mass layout); or a DeepMind Control task from 64 x 64 pixels
            (`genmodels.planet.dmc`, the paper's six: "cartpole-swingup", "reacher-easy",
            "cheetah-run", "finger-spin", "cup-catch", "walker-walk").
        model: the RSSM (``obs_dim``/``action_dim`` must match the task).
        planner: CEM's settings.
        seed_episodes: random-action episodes collected first (paper: 5).
        episodes: planner episodes collected after them (extendable).
        train_steps: gradient steps between two collected episodes (paper: 100).
        batch_size, chunk: sequences per step and their length (paper: 50 and 50).
        learning_rate: Adam's (paper: 1e-3, epsilon 1e-4).
        exploration_noise: Gaussian noise added to the planner's action while collecting (paper: 0.3).
        max_steps: environment steps per episode (paper: 1000).
        action_repeat: environment steps per action (paper: 2-8 by task).
        seed: seeds the model, the batches, the noise and the episodes' tracks.
    """

    env: str = "pointmass"
    model: RSSMConfig = field(default_factory=RSSMConfig)
    planner: CEMConfig = field(default_factory=CEMConfig)
    seed_episodes: int = 5
    episodes: int = extendable(100)
    train_steps: int = 100
    batch_size: int = 50
    chunk: int = 50
    learning_rate: float = 1e-3
    exploration_noise: float = 0.3
    max_steps: int = 1000
    action_repeat: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        sizes = (self.seed_episodes, self.episodes, self.train_steps, self.batch_size, self.chunk)
        if min(sizes) < 1 or min(self.max_steps, self.action_repeat) < 1 or self.chunk < 2:
            raise InputError("PlaNet sizes must be >= 1 (chunk >= 2)", item=self)
        if self.env not in PLANET_TASKS:
            raise InputError("unknown PlaNet task", item=self.env, expected=", ".join(PLANET_TASKS))
        if not self.learning_rate > 0 or self.exploration_noise < 0:
            raise InputError("learning_rate must be > 0 and exploration_noise >= 0", item=self)


# --- Causal InfoGAN (genmodels.causal_infogan) ------------------------------------------------


@dataclass(frozen=True)
class CausalInfoGANConfig:
    """Causal InfoGAN (Kurutach et al. 2018) on flattened images; ``causal=False`` is plain InfoGAN.

    Causal: the generator maps noise z and a pair of abstract states (s, s') to a pair of
    observations (o, o'); s ~ U[-1, 1]^code_dim and s' ~ T(s' | s) = N(s, transition_sigma^2 I)
    (``transition="fixed"``) or its learned refinement (the paper's, the default); the discriminator
    judges pairs; the posterior Q(s | o) is applied to both images and its Gaussian log-likelihood
    of (s, s') is the mutual-information term. Plain InfoGAN: one image from (z, s), Q(s | o).

    Attributes:
        obs_dim: pixels of one image.
        code_dim: size of the abstract state s.
        noise_dim: size of the unstructured noise z (0: none, every image is a function of its code).
        hidden: width of the MLPs (generator, discriminator, posterior).
        transition_sigma: standard deviation of the transition prior T(s' | s).
        info_weight: lambda, the weight of the mutual-information term.
        causal: pairs tied by the transition (Causal InfoGAN) or single images (InfoGAN).
        instance_noise: standard deviation of Gaussian noise added to every image the
            discriminator sees (real and fake), a standard GAN stabiliser (0: none).
        shared_generator: causal only: o = g(z, s) and o' = g(z, s') with one network g and one
            z (the pair is tied through the codes and the pair discriminator); False: one joint
            network G(z, s, s') -> (o, o') (at smoke scale it did not learn the maze, measured).
        image_discriminator: causal only: a second discriminator that judges every single image
            of the pairs beside the pair discriminator (not in the paper; without it neither
            causal variant learned to draw the maze at smoke scale, measured; see the README).
        transition: causal only: "fixed", T(s' | s) = N(s, transition_sigma^2 I), or "learned",
            the paper's: N(s + shift(s), (transition_sigma * scale(s))^2) from an MLP trained with
            the generator (it starts as the fixed one); or "local", the learned one kept local:
            each coordinate of the shift bounded by transition_sigma (``sigma * tanh``) and the
            scale by 1, so every likely move stays within about 3.4 sigma (not in the paper: the
            learned T collapsed to long deterministic jumps at smoke scale, see the README).
        transition_entropy: learned/local T only: add T's entropy H(s' | s) to the mutual-information
            bound (the InfoGAN bound is I >= H(s, s') + E log Q; with a fixed prior H is a constant
            and is dropped, with a learned T it is not, and dropping it lets T shrink its sd freely).
        transition_min_sd: learned/local T only: a floor on T's sd per coordinate (0: none).
        transition_kl: learned/local T only: weight of KL(T(s' | s) || N(s, transition_sigma^2 I)),
            the learned T pulled to the fixed prior (0: none).
    """

    obs_dim: int = 256
    code_dim: int = 2
    noise_dim: int = 4
    hidden: int = 128
    transition_sigma: float = 0.1
    info_weight: float = 1.0
    causal: bool = True
    instance_noise: float = 0.1
    shared_generator: bool = True
    image_discriminator: bool = True
    transition: Literal["fixed", "learned", "local"] = "learned"
    transition_entropy: bool = False
    transition_min_sd: float = 0.0
    transition_kl: float = 0.0

    def __post_init__(self) -> None:
        if min(self.obs_dim, self.code_dim, self.hidden) < 1 or self.noise_dim < 0 or self.instance_noise < 0:
            raise InputError("Causal InfoGAN sizes must be >= 1 (noise_dim >= 0)", item=self)
        if self.transition not in ("fixed", "learned", "local"):
            raise InputError("unknown transition", item=self.transition, expected="fixed, learned or local")
        if not self.transition_sigma > 0 or self.info_weight < 0:
            raise InputError(
                "transition_sigma must be > 0 and info_weight >= 0",
                item=(self.transition_sigma, self.info_weight),
            )
        if not 0 <= self.transition_min_sd < self.transition_sigma or self.transition_kl < 0:
            raise InputError(
                "transition_min_sd must be in [0, transition_sigma) and transition_kl >= 0",
                item=(self.transition_min_sd, self.transition_kl),
            )


@dataclass(frozen=True)
class CausalInfoGANRunConfig:
    """Training of a (Causal) InfoGAN: Adam (betas 0.5/0.999, as in DCGAN/InfoGAN), one D and one G step per batch.

    The step size 5e-4 (DCGAN's is 2e-4) is the one the maze experiment was tuned at.

    Attributes:
        model: the GAN.
        train: optimisation (``epochs`` extendable).
    """

    model: CausalInfoGANConfig = field(default_factory=CausalInfoGANConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=15, batch_size=64, learning_rate=5e-4)
    )


# --- normalising flows (genmodels.flows) ------------------------------------------------------


@dataclass(frozen=True)
class FlowConfig:
    """A multi-scale Glow/RealNVP flow (Kingma & Dhariwal 2018's defaults: 3 levels of 32 steps, 512 channels).

    Each level squeezes (space to depth), applies `steps` of actnorm, invertible 1x1 convolution
    (LU) and coupling, and (but the last) factors half of its channels out to a standard normal.

    Attributes:
        image_shape: ``(channels, height, width)``; height and width divisible by ``2 ** levels``.
        levels: number of scales L.
        steps: flow steps K per level.
        hidden: channels of each coupling layer's CNN.
        coupling: "affine" (Glow) or "additive" (log-det independent of the input: with actnorm and
            the 1x1 convolution this is the constant-volume Glow of Nalisnick et al. 2019).
        grey_levels: quantisation levels of the data (256 for 8-bit images, 17 for sklearn's digits);
            sets the uniform dequantisation and the bits/dim correction.
    """

    image_shape: tuple[int, ...] = (3, 32, 32)
    levels: int = 3
    steps: int = 32
    hidden: int = 512
    coupling: Literal["affine", "additive"] = "affine"
    grey_levels: int = 256

    def __post_init__(self) -> None:
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise InputError("image_shape must be (channels, height, width)", item=self.image_shape)
        if min(self.levels, self.steps, self.hidden) < 1 or self.grey_levels < 2:
            raise InputError("levels, steps, hidden must be >= 1 and grey_levels >= 2", item=self)
        if self.coupling not in ("affine", "additive"):
            raise InputError("unknown coupling", item=self.coupling, expected="affine or additive")
        factor = 2**self.levels
        if self.image_shape[1] % factor or self.image_shape[2] % factor:
            raise InputError(
                f"a flow of {self.levels} levels squeezes {self.levels} times: height and width must be "
                f"divisible by {factor}",
                item=f"image_shape {self.image_shape}",
                expected="fewer levels, or resized images",
            )


@dataclass(frozen=True)
class FlowRunConfig:
    """Maximum-likelihood training of a flow on uniformly dequantised images (Adam 1e-3, batch 64: Glow's).

    Attributes:
        model: the flow.
        train: optimisation (``epochs`` extendable).
        max_grad_norm: gradient-norm clip (Glow clips too; guards the first steps).
    """

    model: FlowConfig = field(default_factory=FlowConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=20, batch_size=64, learning_rate=1e-3)
    )
    max_grad_norm: float = 50.0


# --- MMD-GAN with the repulsive loss (genmodels.mmd_gan) -------------------------------------


@dataclass(frozen=True)
class MMDGANConfig:
    """A DCGAN-style generator and spectrally normalised discriminator with an MMD (or hinge) loss (Wang et al. 2019).

    Attributes:
        image_shape: ``(channels, height, width)``; height and width divisible by 4.
        noise_dim: generator input (the paper: 128).
        width: channels of the first discriminator / last generator convolution (doubled twice).
        loss: "repulsive" (the paper's L_D = E k(x, x') - E k(y, y')), "mmd" (standard L_D = -MMD^2)
            or "hinge" (the hinge GAN baseline); the MMD generators minimise the unbiased MMD^2.
        kernel: "rbf-b" (the bounded Gaussian kernel in the discriminator loss) or "rbf".
        sigma: the Gaussian kernel's bandwidth on the discriminator's outputs (the paper: 1).
        lower_bound, upper_bound: RBF-B's bounds: generated-generated squared distances clipped below
            at b_l, real-real ones above at b_u (the paper: 0.25 and 4).
        features: discriminator output dimension for the MMD losses (the paper: 16; hinge uses 1).
        spectral_norm: spectral normalisation of every discriminator layer (torch's parametrisation).
    """

    image_shape: tuple[int, ...] = (1, 16, 16)
    noise_dim: int = 128
    width: int = 64
    loss: Literal["repulsive", "mmd", "hinge"] = "repulsive"
    kernel: Literal["rbf-b", "rbf"] = "rbf-b"
    sigma: float = 1.0
    lower_bound: float = 0.25
    upper_bound: float = 4.0
    features: int = 16
    spectral_norm: bool = True

    def __post_init__(self) -> None:
        if len(self.image_shape) != 3 or self.image_shape[1] % 4 or self.image_shape[2] % 4:
            raise InputError(
                "image_shape must be (channels, h, w) with h, w divisible by 4", item=self.image_shape
            )
        if self.loss not in ("repulsive", "mmd", "hinge") or self.kernel not in ("rbf-b", "rbf"):
            raise InputError("unknown loss or kernel", item=(self.loss, self.kernel))
        if min(self.noise_dim, self.width, self.features) < 1 or self.sigma <= 0:
            raise InputError("noise_dim, width, features must be >= 1 and sigma > 0", item=self)
        if not 0 <= self.lower_bound <= self.upper_bound:
            raise InputError(
                "RBF-B needs 0 <= lower_bound <= upper_bound", item=(self.lower_bound, self.upper_bound)
            )


@dataclass(frozen=True)
class MMDGANRunConfig:
    """Training of an MMD-GAN: one discriminator and one generator Adam step per minibatch.

    Attributes:
        model: the networks and loss.
        train: optimisation (``epochs`` extendable); the paper's Adam betas (0.5, 0.99).
    """

    model: MMDGANConfig = field(default_factory=MMDGANConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=20, batch_size=64, learning_rate=2e-4)
    )


# --- neural ODEs (genmodels.node) -------------------------------------------------------------


@dataclass(frozen=True)
class ODENetRunConfig:
    """An ODE-Net (or its equal-depth ResNet) image classifier trained by cross-entropy (Chen et al. 2018, sec. 7.1).

    Attributes:
        model: "odenet" (one ODE block, dopri5) or "resnet" (`depth` residual blocks of the same form).
        channels: feature maps of the block.
        tolerance: the solver's rtol = atol during training.
        adjoint: gradients by the adjoint method (else by backpropagating through the solver).
        depth: residual blocks of the ResNet (the paper compares with a ResNet of 6 blocks).
        classes: output classes.
        train: optimisation (``epochs`` extendable).
    """

    model: Literal["odenet", "resnet"] = "odenet"
    channels: int = 32
    tolerance: float = 1e-3
    adjoint: bool = False
    depth: int = 6
    classes: int = 10
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=10, batch_size=128, learning_rate=1e-3)
    )

    def __post_init__(self) -> None:
        if self.model not in ("odenet", "resnet") or min(self.channels, self.depth, self.classes) < 1:
            raise InputError("model must be odenet or resnet with positive sizes", item=self)
        if not self.tolerance > 0:
            raise InputError("tolerance must be > 0", item=self.tolerance)


@dataclass(frozen=True)
class CNFRunConfig:
    """A continuous normalising flow on 2-D points by maximum likelihood with FFJORD's Hutchinson estimator.

    Attributes:
        dims: point dimension.
        hidden: tanh units of the dynamics MLP (two hidden layers, t as an input).
        tolerance: the solver's rtol = atol during training.
        estimator: "hutchinson" (FFJORD, one Gaussian probe per point) or "exact".
        train: optimisation (``epochs`` extendable).
    """

    dims: int = 2
    hidden: int = 64
    tolerance: float = 1e-3
    estimator: Literal["hutchinson", "exact"] = "hutchinson"
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=20, batch_size=256, learning_rate=1e-3)
    )

    def __post_init__(self) -> None:
        if min(self.dims, self.hidden) < 1 or not self.tolerance > 0:
            raise InputError("dims, hidden must be >= 1 and tolerance > 0", item=self)
        if self.estimator not in ("hutchinson", "exact"):
            raise InputError("unknown trace estimator", item=self.estimator, expected="hutchinson or exact")


@dataclass(frozen=True)
class SpiralConfig:
    """The paper's irregularly sampled 2-D spirals (Chen et al. 2018, sec. 5.1), generated by `genmodels.spirals`.

    Each spiral is an Archimedean arc ``r = b * theta`` (half turning counter-clockwise about
    ``(+centre, 0)``, half clockwise about ``(-centre, 0)``) starting at a random angle, on a grid of
    ``samples + extrapolate`` equally spaced times of step `dt`; `observed` of the first `samples`
    grid points (drawn without replacement per spiral) are seen, with Gaussian noise.

    Attributes:
        spirals: number of spirals (the paper: 1,000).
        samples: grid points of the observation window (the paper: 100).
        observed: points seen per spiral (the paper: 30, 50 or 100).
        extrapolate: grid points after the window where the extrapolation is scored.
        noise: standard deviation of the observation noise (torchdiffeq's example: 0.3).
        dt: time (and angle) step of the grid (torchdiffeq's example: 6 pi / 999 rad).
        b: the spiral's radial growth per radian (torchdiffeq's example: 0.3).
        centre: the two spirals' centres sit at ``(+-centre, 0)`` (the example: 5).
        max_angle: start angles are drawn so the whole grid stays within ``[samples * dt, max_angle]``.
    """

    spirals: int = 1000
    samples: int = 100
    observed: int = 100
    extrapolate: int = 100
    noise: float = 0.3
    dt: float = 0.018868424345884048  # 6 pi / 999
    b: float = 0.3
    centre: float = 5.0
    max_angle: float = 18.84955592153876  # 6 pi

    def __post_init__(self) -> None:
        if min(self.spirals, self.samples, self.observed) < 1 or self.extrapolate < 0:
            raise InputError(
                "spirals, samples, observed must be >= 1 and extrapolate >= 0",
                item=(self.spirals, self.samples, self.observed, self.extrapolate),
            )
        if self.observed > self.samples:
            raise InputError(
                "cannot observe more points than the window has",
                item=f"observed {self.observed} > samples {self.samples}",
            )
        if self.noise < 0 or not self.dt > 0 or not self.b > 0:
            raise InputError("noise must be >= 0, dt and b > 0", item=(self.noise, self.dt, self.b))
        if (2 * self.samples + self.extrapolate) * self.dt > self.max_angle:
            raise InputError(
                "the grid does not fit between samples * dt and max_angle",
                item=f"{2 * self.samples + self.extrapolate} steps of {self.dt:g} > {self.max_angle:g}",
                expected="fewer samples/extrapolate points, a smaller dt or a larger max_angle",
            )


@dataclass(frozen=True)
class LatentODERunConfig:
    """A latent ODE (or the RNN baseline) on irregularly sampled sequences (Chen et al. 2018, sec. 5).

    Sizes are torchdiffeq's `examples/latent_ode.py` (the authors'): 4 latent dimensions, dynamics
    and decoder MLPs of 20 units, an encoder RNN of 25 units, full-batch Adam at 0.01 for 2,000 steps.

    Attributes:
        model: "latent-ode" (RNN encoder run backwards over the observations -> q(z0), an ODE in
            z, a decoder; trained on the ELBO) or "rnn" (a GRU reading observations and time gaps
            forwards, trained to predict the next observation under the same Gaussian noise).
        obs_dim: observation dimension.
        latent_dim: z's dimension.
        hidden: units of the dynamics MLP (two ELU layers) and of the decoder (one ReLU layer).
        rnn_hidden: units of the encoder GRU (and of the baseline's GRU).
        obs_noise: the likelihood's fixed observation standard deviation.
        tolerance: the solver's rtol = atol (dopri5).
        adjoint: gradients by the adjoint method.
        train: optimisation (``epochs`` extendable; with batch_size >= the data, one step an epoch).
    """

    model: Literal["latent-ode", "rnn"] = "latent-ode"
    obs_dim: int = 2
    latent_dim: int = 4
    hidden: int = 20
    rnn_hidden: int = 25
    obs_noise: float = 0.3
    tolerance: float = 1e-3
    adjoint: bool = False
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=2000, batch_size=1000, learning_rate=0.01, checkpoint_every=50
        )
    )

    def __post_init__(self) -> None:
        if self.model not in ("latent-ode", "rnn"):
            raise InputError("unknown sequence model", item=self.model, expected="latent-ode or rnn")
        if min(self.obs_dim, self.latent_dim, self.hidden, self.rnn_hidden) < 1:
            raise InputError("obs_dim, latent_dim, hidden, rnn_hidden must be >= 1", item=self)
        if not self.obs_noise > 0 or not self.tolerance > 0:
            raise InputError("obs_noise and tolerance must be > 0", item=(self.obs_noise, self.tolerance))
