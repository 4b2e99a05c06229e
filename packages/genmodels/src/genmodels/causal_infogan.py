"""Causal InfoGAN (Kurutach et al. 2018): a GAN of observation pairs tied by a latent transition, and planning in its code space.

Reads top to bottom: the networks (generator of (o, o') from (z, s, s'): by default one image
network applied to s and to s' with the same z, or one joint network; discriminator of pairs,
posterior Q(s | o)); one training step (non-saturating GAN loss plus lambda times the posterior's
Gaussian negative log-likelihood of the codes, the InfoGAN mutual-information bound); the
resumable trainer on the shared epoch loop; planning between the encodings Q(o_start), Q(o_goal):
the shortest path (Dijkstra, scipy) over a graph of codes drawn from the prior, joined where the
transition prior makes a move likely, or straight-line interpolation; and decoding a code path
into images. With ``causal=False`` the same code is plain InfoGAN (single images from (z, s)).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import InputError
from genmodels.config import CausalInfoGANConfig, CausalInfoGANRunConfig

__all__ = [
    "CausalInfoGAN",
    "CausalInfoGANConfig",
    "CausalInfoGANRunConfig",
    "decode_plan",
    "discriminator_loss",
    "encode",
    "fit_causal_infogan",
    "generator_loss",
    "graph_path",
    "interpolate",
    "match_codes",
    "shortest_path",
    "transition_graph",
]


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, outputs),
    )


class CausalInfoGAN(nn.Module):
    """Generator, discriminator and posterior of a Causal InfoGAN (or plain InfoGAN when not causal)."""

    def __init__(self, config: CausalInfoGANConfig) -> None:
        super().__init__()
        self.config = config
        width = 2 if config.causal else 1
        self.width = width
        per_call = width if config.causal and not config.shared_generator else 1
        self.generator = _mlp(
            config.noise_dim + per_call * config.code_dim, config.hidden, per_call * config.obs_dim
        )
        judges = {"": width}
        if config.causal and config.image_discriminator:
            judges["image_"] = 1
        layers: dict[str, nn.Module] = {}
        for prefix, images in judges.items():
            layers[f"{prefix}features"] = nn.Sequential(
                nn.Linear(images * config.obs_dim, config.hidden), nn.LeakyReLU(0.2)
            )
            layers[f"{prefix}head"] = _mlp(config.hidden + 1, config.hidden, 1)
        self.discriminator = nn.ModuleDict(layers)
        self.posterior = _mlp(config.obs_dim, config.hidden, config.code_dim)
        if config.causal and config.transition in ("learned", "local"):
            self.transition = _mlp(config.code_dim, config.hidden, 2 * config.code_dim)
            last = self.transition[-1]
            nn.init.zeros_(last.weight)  # starts as the fixed prior N(s, transition_sigma^2)
            nn.init.zeros_(last.bias)

    def transition_moments(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation of T(s' | s) for codes ``(n, code_dim)``, each ``(n, code_dim)``.

        Fixed: ``(s, transition_sigma)``. Learned (the paper's): ``s + shift(s)`` and
        ``transition_sigma * exp(log_scale(s))`` from one MLP, trained with the generator. Local:
        the same MLP with the shift squashed to ``transition_sigma * tanh(shift(s))`` per coordinate
        and the scale to at most 1, so a move is never longer than the prior's few sigma. With
        ``transition_min_sd`` the sd never falls below that floor.
        """
        sigma = self.config.transition_sigma
        if not hasattr(self, "transition"):
            return s, torch.full_like(s, sigma)
        shift, log_scale = self.transition(s).chunk(2, dim=1)
        low = (
            max(-5.0, float(np.log(self.config.transition_min_sd / sigma)))
            if self.config.transition_min_sd
            else -5.0
        )
        if self.config.transition == "local":
            return s + sigma * torch.tanh(shift), sigma * torch.exp(log_scale.clamp(low, 0.0))
        return s + shift, sigma * torch.exp(log_scale.clamp(low, 2.0))

    def transition_penalty(self, s: Tensor) -> Tensor:
        """The learned T's extra generator-loss terms at codes ``s (n, code_dim)``, a scalar (0 without them).

        ``- info_weight * H(T(s' | s))`` when ``transition_entropy`` (the entropy of the code pair
        that the mutual-information bound I >= H(s, s') + E log Q(s, s' | o, o') holds, up to the
        constant H(s)), plus ``transition_kl * KL(T(s' | s) || N(s, transition_sigma^2 I))``,
        both averaged over the batch.
        """
        c = self.config
        if not hasattr(self, "transition") or not (c.transition_entropy or c.transition_kl):
            return s.new_zeros(())
        mean, sd = self.transition_moments(s)
        penalty = s.new_zeros(())
        if c.transition_entropy:  # Gaussian entropy: sum log sd + const
            penalty = penalty - c.info_weight * torch.log(sd).sum(1).mean()
        if c.transition_kl:
            var = c.transition_sigma**2
            kl = torch.log(c.transition_sigma / sd) + (sd**2 + (mean - s) ** 2) / (2 * var) - 0.5
            penalty = penalty + c.transition_kl * kl.sum(1).mean()
        return penalty

    def sample_codes(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        """Noise z ``(n, noise_dim)`` and codes ``(n, width, code_dim)``: s ~ U[-1, 1], s' ~ T(s' | s)."""
        c = self.config
        device = next(self.parameters()).device
        z = torch.randn(n, c.noise_dim, generator=generator).to(device)
        s = torch.rand(n, c.code_dim, generator=generator).to(device) * 2 - 1
        if not c.causal:
            return z, s[:, None]
        mean, sd = self.transition_moments(s)
        s_next = mean + sd * torch.randn(n, c.code_dim, generator=generator).to(device)
        return z, torch.stack([s, s_next], dim=1)

    @torch.no_grad()
    def move_radius(self, codes: Tensor) -> float:
        """The planner's longest edge: mean over `codes` ``(n, code_dim)`` of ``||shift|| + 2 * mean sd`` of T."""
        mean, sd = self.transition_moments(codes)
        return float(((mean - codes).norm(dim=1) + 2 * sd.mean(dim=1)).mean())

    def generate(self, z: Tensor, codes: Tensor) -> Tensor:
        """Images ``(n, width, obs_dim)`` in [0, 1] from noise ``(n, noise_dim)`` and codes ``(n, width, code_dim)``."""
        if self.config.causal and self.config.shared_generator:
            per_image = z[:, None].expand(-1, self.width, -1)
            out = self.generator(torch.cat([per_image, codes], dim=2))
        else:
            out = self.generator(torch.cat([z, codes.flatten(1)], dim=1))
        return torch.sigmoid(out).reshape(len(z), self.width, self.config.obs_dim)

    def critic(self, images: Tensor) -> Tensor:
        """Discriminator logits ``(n,)`` of a batch of ``(n, width, obs_dim)`` images (pairs when causal).

        The head also reads the batch's mean feature standard deviation (the minibatch-std feature
        of Karras et al. 2018), so a generator that collapses to one image is told apart: without
        it, this small MLP GAN collapsed to a single position (measured), leaving no plan to test.
        """
        return self._judge("", images.flatten(1))

    def image_critic(self, images: Tensor) -> Tensor | None:
        """Logits ``(n * width,)`` of the single-image discriminator on every image of ``(n, width, obs_dim)``.

        None when the model has none (plain InfoGAN, whose `critic` already judges single
        images, or ``image_discriminator=False``).
        """
        if "image_head" not in self.discriminator:
            return None
        return self._judge("image_", images.reshape(-1, self.config.obs_dim))

    def _judge(self, prefix: str, flat: Tensor) -> Tensor:
        features = self.discriminator[f"{prefix}features"](flat)
        spread = features.std(dim=0).mean().expand(len(features), 1)
        return self.discriminator[f"{prefix}head"](torch.cat([features, spread], dim=1))[:, 0]


def _blur(images: Tensor, sd: float, generator: torch.Generator | None) -> Tensor:
    """Images plus Gaussian instance noise of standard deviation `sd` (none when 0)."""
    if sd == 0:
        return images
    return images + sd * torch.randn(images.shape, generator=generator).to(images.device)


def discriminator_loss(
    model: CausalInfoGAN, real: Tensor, fake: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """BCE of the discriminator on real ``(n, width, obs_dim)`` images (label 1) and detached fakes (label 0).

    Both are seen through the config's instance noise (drawn from `generator`). With a single-image
    discriminator (causal, ``image_discriminator``) its BCE on every image of the pairs is added.
    """
    bce = nn.functional.binary_cross_entropy_with_logits
    sd = model.config.instance_noise
    real, fake = _blur(real, sd, generator), _blur(fake.detach(), sd, generator)
    loss = real.new_zeros(())
    for judge in (model.critic, model.image_critic):
        real_logits, fake_logits = judge(real), judge(fake)
        if real_logits is not None:
            loss = loss + bce(real_logits, torch.ones_like(real_logits))
            loss = loss + bce(fake_logits, torch.zeros_like(fake_logits))
    return loss


def generator_loss(
    model: CausalInfoGAN, fake: Tensor, codes: Tensor, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Generator loss and the mutual-information term for fakes ``(n, width, obs_dim)`` made from ``codes``.

    Returns:
        ``(loss, info)``: the non-saturating BCE plus ``info_weight * info``, where ``info`` is
        0.5 * ||Q(o) - s||^2 summed over the code (and over o, o'), averaged over the batch: the
        Gaussian negative log-likelihood of the codes under the posterior, up to a constant; plus
        the learned T's `CausalInfoGAN.transition_penalty` (entropy, KL) when configured.
    """
    guess = model.posterior(fake.reshape(-1, model.config.obs_dim)).reshape(codes.shape)
    info = 0.5 * ((guess - codes) ** 2).sum(dim=(1, 2)).mean()
    seen = _blur(fake, model.config.instance_noise, generator)
    bce = seen.new_zeros(())
    for judge in (model.critic, model.image_critic):
        logits = judge(seen)
        if logits is not None:
            bce = bce + nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    penalty = model.transition_penalty(codes[:, 0]) if codes.shape[1] == 2 else 0.0
    return bce + model.config.info_weight * info + penalty, info


def fit_causal_infogan(
    pairs: Tensor,
    config: CausalInfoGANRunConfig,
    *,
    checkpoint: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[CausalInfoGAN, list[dict[str, float]]]:
    """Train on transition images ``pairs (n, 2, obs_dim)`` through the shared resumable loop.

    Causal: each item is a pair (o, o'). Plain InfoGAN: both images of every pair are used as
    separate items. Each step: one Adam step of the discriminator, then one of generator + posterior.

    Raises:
        InputError: pairs of another shape than ``(n, 2, config.model.obs_dim)``.
    """
    from genmodels.train import run_epochs

    if pairs.dim() != 3 or pairs.shape[1] != 2 or pairs.shape[2] != config.model.obs_dim:
        raise InputError(
            "pairs do not fit the Causal InfoGAN config",
            item=f"shape {tuple(pairs.shape)}",
            expected=f"(n, 2, {config.model.obs_dim})",
        )
    data = pairs.float() if config.model.causal else pairs.float().reshape(-1, 1, pairs.shape[2])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.train.seed)
        model = CausalInfoGAN(config.model)
    rate, betas = config.train.learning_rate, (0.5, 0.999)
    d_opt = torch.optim.Adam(model.discriminator.parameters(), lr=rate, betas=betas)
    generative = [*model.generator.parameters(), *model.posterior.parameters()]
    if hasattr(model, "transition"):
        generative += list(model.transition.parameters())
    g_opt = torch.optim.Adam(generative, lr=rate, betas=betas)
    noise = torch.Generator().manual_seed(config.train.seed)

    def step(index: Tensor, generator: torch.Generator, global_step: int) -> dict[str, float]:
        z, codes = model.sample_codes(len(index), generator)
        fake = model.generate(z, codes)
        d_loss = discriminator_loss(model, data[index], fake, generator)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        g_loss, info = generator_loss(model, fake, codes, generator)
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=generative)
        g_opt.step()
        return {
            "discriminator": float(d_loss.detach()),
            "generator": float(g_loss.detach()),
            "info": float(info.detach()),
        }

    history = run_epochs(
        desc="Causal InfoGAN" if config.model.causal else "InfoGAN",
        train=config.train,
        run_config=config,
        run_type=CausalInfoGANRunConfig,
        size=len(data),
        step=step,
        stateful={"model": model, "d_opt": d_opt, "g_opt": g_opt},
        generator=noise,
        checkpoint=checkpoint,
        on_epoch=on_epoch,
    )
    return model, history


@torch.no_grad()
def encode(model: CausalInfoGAN, images: np.ndarray) -> np.ndarray:
    """Codes Q(o) of images; ``(n, obs_dim) -> (n, code_dim)``."""
    return model.posterior(torch.as_tensor(images, dtype=torch.float32)).numpy().astype(np.float64)


@torch.no_grad()
def match_codes(model: CausalInfoGAN, images: np.ndarray, candidates: np.ndarray, z: Tensor) -> np.ndarray:
    """For each image, the index of the candidate code whose generated image is nearest (squared error).

    The planner's start and goal are found this way rather than by Q(o): Q is trained on
    generated images only and maps real ones outside the prior's support (measured: codes beyond
    +-2 for a prior on [-1, 1]), off the graph of sampled codes.

    Args:
        images: ``(n, obs_dim)`` observations.
        candidates: ``(m, code_dim)`` codes.
        z: ``(1, noise_dim)`` the plan's noise.

    Returns:
        ``(n,)`` indices into `candidates`.
    """
    codes = torch.as_tensor(candidates, dtype=torch.float32)
    codes = codes[:, None].expand(-1, model.width, -1)
    generated = model.generate(z.expand(len(codes), -1), codes)[:, 0].double().numpy()
    images = np.asarray(images, dtype=np.float64)
    distance = (generated**2).sum(1)[None, :] - 2 * images @ generated.T
    return np.argmin(distance, axis=1)


def interpolate(start: np.ndarray, goal: np.ndarray, transitions: int) -> np.ndarray:
    """The straight line from start to goal in `transitions` equal steps; ``(d,), (d,) -> (transitions + 1, d)``."""
    if transitions < 1:
        raise InputError("a plan needs at least one transition", item=transitions)
    t = np.linspace(0.0, 1.0, transitions + 1)[:, None]
    return (1 - t) * np.asarray(start)[None] + t * np.asarray(goal)[None]


@torch.no_grad()
def transition_graph(model: CausalInfoGAN, nodes: np.ndarray, level: float = 0.95):
    """The directed planning graph of T's likelihood over codes ``nodes (n, code_dim)``: a scipy CSR matrix.

    An edge i -> j exists where s_j lies inside the `level` region of T(s' | s_i) (diagonal
    Gaussian: squared Mahalanobis distance ``d2`` at most the chi-square quantile of `level` with
    code_dim degrees of freedom); its weight is T's negative log-likelihood
    ``0.5 * d2 + sum(log sd_i)`` shifted by the smallest ``sum(log sd)`` over the nodes (and
    1e-9), so weights are positive and a shortest path is the most likely path under T with a
    constant cost per move. No radius is chosen: T says which moves are likely. For plain InfoGAN
    (no T) the fixed prior N(s, transition_sigma^2) applies.

    Raises:
        InputError: `level` outside (0, 1).
    """
    from scipy.sparse import csr_matrix
    from scipy.stats import chi2

    if not 0 < level < 1:
        raise InputError("the likelihood level must be in (0, 1)", item=level)
    codes = torch.as_tensor(nodes, dtype=torch.float32)
    mean, sd = (v.double().numpy() for v in model.transition_moments(codes))
    nodes = np.asarray(nodes, dtype=np.float64)
    bound = chi2.ppf(level, nodes.shape[1])
    log_norm = np.log(sd).sum(1)
    rows, cols, weights = [], [], []
    for start in range(0, len(nodes), 512):  # (512, n) blocks keep memory at n * 4 KiB
        block = slice(start, start + 512)
        d2 = (((nodes[None, :, :] - mean[block, None, :]) / sd[block, None, :]) ** 2).sum(-1)
        i, j = np.nonzero(d2 <= bound)
        keep = i + start != j
        i, j = i[keep], j[keep]
        rows.append(i + start)
        cols.append(j)
        weights.append(0.5 * d2[i, j] + log_norm[i + start] - log_norm.min() + 1e-9)
    return csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(len(nodes),) * 2
    )


def graph_path(graph, source: int, target: int, *, directed: bool = True) -> list[int] | None:
    """The shortest path from `source` to `target` (Dijkstra, scipy) over a sparse weighted graph, or None."""
    from scipy.sparse.csgraph import dijkstra

    _, predecessors = dijkstra(graph, directed=directed, indices=source, return_predecessors=True)
    if source != target and predecessors[target] < 0:
        return None
    path = [target]
    while path[-1] != source:
        path.append(int(predecessors[path[-1]]))
    return path[::-1]


def shortest_path(nodes: np.ndarray, radius: float, source: int, target: int) -> list[int] | None:
    """The shortest path (Euclidean edge lengths) from `source` to `target` over edges no longer than `radius`.

    Args:
        nodes: ``(n, d)`` points (codes).
        radius: longest edge (for a Gaussian transition of std sigma, a few sigma: the moves the
            prior makes likely).

    Returns:
        Node indices from source to target, or None when they are not connected.
    """
    from sklearn.neighbors import radius_neighbors_graph

    return graph_path(radius_neighbors_graph(nodes, radius, mode="distance"), source, target, directed=False)


@torch.no_grad()
def decode_plan(model: CausalInfoGAN, codes: np.ndarray, z: Tensor) -> np.ndarray:
    """Images of a code path with one noise ``z (1, noise_dim)`` for the whole plan; ``(k, code_dim) -> (k, obs_dim)``.

    Causal: frame i is the first image of G(z, s_i, s_{i+1}); the last frame is the second image
    of the last pair. Plain InfoGAN: frame i is G(z, s_i).
    """
    codes_t = torch.as_tensor(codes, dtype=torch.float32)
    if not model.config.causal:
        return model.generate(z.expand(len(codes_t), -1), codes_t[:, None])[:, 0].numpy()
    if len(codes_t) < 2:
        raise InputError("a causal plan needs at least two codes", item=len(codes_t))
    pairs = torch.stack([codes_t[:-1], codes_t[1:]], dim=1)
    images = model.generate(z.expand(len(pairs), -1), pairs)
    return torch.cat([images[:, 0], images[-1:, 1]]).numpy()
