"""CF-GPS, MB-PS and a model-free learner on the box-pushing SCM (`hrl.envs.box_push.BoxPushSCM`).

Inference. An observed episode shows the agent's and the box's cells and the return, not the
target. Under the model's SCM the posterior factorises: the scenario's agent and box are the observed
starts; the target has posterior ``p(target) p(agent, box | target)`` over the targets consistent with
the episode (the final box cell if it was solved; otherwise any cell the box never occupied and the
agent did not start on) (`target_posterior`); each step's noise ``(slip, dir)`` has the posterior of its
8 values under the prior restricted to those that map (cell, action) to the observed next cells
(`step_noise_posterior`); steps after the episode's end keep their prior. `sample_posterior` draws
(scenario, noise) from it; re-simulating the episode's actions under any draw reproduces the episode.

Policy search (`run_policy_search`), for a fixed budget of real episodes, each from the current
policy in the real environment (whose target prior, ``real_targets``, differs from the model's
uniform one: the model is misspecified, as a learned model would be):

- ``"cf-gps"``: after each real episode, ``rollouts`` counterfactual rollouts in (scenario, noise)
  drawn from that episode's posterior: a planner that knows the inferred target (breadth-first search
  in the model, `Planner`) acts, and the policy is fitted to its actions (guided policy search:
  behaviour cloning of the planner, the policy seeing only the agent and box cells).
- ``"mb-ps"``: the same with (scenario, noise) drawn from the model's prior.
- ``"model-free"``: the policy is fitted to its own solved real episodes, weighted by their return
  (REINFORCE with non-negative returns on a count policy).

`CountPolicy`: a tabular policy over (agent cell, box cell), ``pi(a | o)`` proportional to its
weighted action counts plus ``smoothing``; evaluated greedily (uniform on unseen cells). The policy's
value is its mean return over fixed real evaluation episodes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import InputError

if TYPE_CHECKING:  # hrl.envs registers gymnasium environments on import: keep `hrl --help` light
    from hrl.envs.box_push import BoxPushSCM, Scenario

__all__ = [
    "CFGPS_METHODS",
    "CFGPSConfig",
    "CountPolicy",
    "Planner",
    "run_policy_search",
    "sample_posterior",
    "step_noise_posterior",
    "target_posterior",
]

CFGPS_METHODS = ("cf-gps", "mb-ps", "model-free")


def step_noise_posterior(
    scm: BoxPushSCM, agent: Any, box: Any, action: int, next_agent: Any, next_box: Any
) -> list[tuple[tuple[int, int], float]]:
    """The posterior over one step's noise (slip, dir) given the observed transition: the prior's
    weights ((1 - slip) / 4 or slip / 4) of the consistent values, normalised."""
    weights = []
    for slipped in (0, 1):
        for direction in range(4):
            prior = (scm.slip if slipped else 1.0 - scm.slip) / 4
            if prior > 0 and scm.step(agent, box, action, (slipped, direction)) == (next_agent, next_box):
                weights.append(((slipped, direction), prior))
    total = sum(w for _, w in weights)
    if total == 0:
        raise InputError("the observed transition is impossible under the model's SCM")
    return [(noise, w / total) for noise, w in weights]


def target_posterior(scm: BoxPushSCM, episode: dict) -> dict[Any, float]:
    """The model's posterior over the target cell given an observed episode (module docstring)."""
    agent, box = episode["agents"][0], episode["boxes"][0]
    if episode["solved"]:
        candidates = [episode["boxes"][-1]]
    else:
        visited = set(episode["boxes"]) | {agent}
        candidates = [c for c in scm.target_cells if c not in visited]
    weights = {}
    for target in candidates:
        if target not in scm.target_cells:
            continue
        boxes = [c for c in scm.box_cells if c != target]
        if box not in boxes:
            continue
        # p(target) p(box | target) p(agent | box, target)
        weights[target] = (1 / len(scm.target_cells)) / len(boxes) / (len(scm.cells) - 2)
    total = sum(weights.values())
    if total == 0:
        raise InputError("the observed episode has no target of positive prior under the model")
    return {t: w / total for t, w in weights.items()}


def sample_posterior(
    scm: BoxPushSCM, episode: dict, rng: np.random.Generator, target: Any = None
) -> tuple[Scenario, np.ndarray]:
    """One draw of (scenario, step noise) from the posterior given ``episode`` (and, for a fully
    observed episode, its ``target``)."""
    if target is None:
        posterior = target_posterior(scm, episode)
        cells = list(posterior)
        target = cells[int(rng.choice(len(cells), p=np.array([posterior[c] for c in cells])))]
    from hrl.envs.box_push import Scenario

    scenario = Scenario(agent=episode["agents"][0], box=episode["boxes"][0], target=target)
    noise = scm.sample_step_noise(rng)
    agents, boxes = episode["agents"], episode["boxes"]
    for t, action in enumerate(episode["actions"]):
        options = step_noise_posterior(scm, agents[t], boxes[t], action, agents[t + 1], boxes[t + 1])
        pick = int(rng.choice(len(options), p=np.array([w for _, w in options])))
        noise[t] = options[pick][0]
    return scenario, noise


class Planner:
    """Shortest box-on-target plans by breadth-first search over (agent, box) in the model's
    deterministic dynamics (no slips); ``act`` returns a shortest plan's first action (cached)."""

    def __init__(self, scm: BoxPushSCM) -> None:
        self.scm = scm
        self.cache: dict[tuple[Any, Any, Any], int] = {}

    def act(self, agent: Any, box: Any, target: Any) -> int:
        key = (agent, box, target)
        if key not in self.cache:
            self.cache[key] = self._search(agent, box, target)
        return self.cache[key]

    def plan_length(self, agent: Any, box: Any, target: Any) -> int | None:
        """Steps of a shortest plan (None when the box cannot reach the target)."""
        seen = {(agent, box): 0}
        queue = deque([(agent, box)])
        while queue:
            a, b = queue.popleft()
            if b == target:
                return seen[(a, b)]
            for direction in range(4):
                nxt = self.scm.move(a, b, direction)
                if nxt not in seen:
                    seen[nxt] = seen[(a, b)] + 1
                    queue.append(nxt)
        return None

    def _search(self, agent: Any, box: Any, target: Any) -> int:
        first: dict[tuple[Any, Any], int] = {}
        queue = deque()
        for direction in range(4):
            nxt = self.scm.move(agent, box, direction)
            if nxt != (agent, box) and nxt not in first:
                first[nxt] = direction
                queue.append(nxt)
        seen = {(agent, box), *first}
        while queue:
            a, b = queue.popleft()
            if b == target:
                return first[(a, b)]
            for direction in range(4):
                nxt = self.scm.move(a, b, direction)
                if nxt not in seen:
                    seen.add(nxt)
                    first[nxt] = first[(a, b)]
                    queue.append(nxt)
        return 0


class CountPolicy:
    """``pi(a | agent, box)`` proportional to weighted action counts plus ``smoothing``."""

    def __init__(self, smoothing: float = 0.1) -> None:
        self.smoothing = smoothing
        self.counts: dict[tuple[Any, Any], np.ndarray] = {}

    def fit(self, agents: list[Any], boxes: list[Any], actions: list[int], weight: float = 1.0) -> None:
        """Add ``weight`` to the count of each (observation, action) pair."""
        for agent, box, action in zip(agents, boxes, actions, strict=False):
            self.counts.setdefault((agent, box), np.zeros(4))[action] += weight

    def probabilities(self, agent: Any, box: Any) -> np.ndarray:
        counts = self.counts.get((agent, box), np.zeros(4)) + self.smoothing
        return counts / counts.sum()

    def sample(self, agent: Any, box: Any, rng: np.random.Generator) -> int:
        return int(rng.choice(4, p=self.probabilities(agent, box)))

    def greedy(self, agent: Any, box: Any, rng: np.random.Generator) -> int:
        p = self.probabilities(agent, box)
        best = np.flatnonzero(p == p.max())
        return int(best[int(rng.integers(len(best)))])


@dataclass(frozen=True)
class CFGPSConfig:
    """One policy search.

    Attributes:
        method: one of `CFGPS_METHODS`.
        size, horizon, slip: the room (`BoxPushSCM`), the same in the real world and the model.
        real_targets: the real world's target cells.
        model_targets: the model's prior's target cells (None: the whole room, a misspecified prior;
            ``real_targets``: a correct model, the control).
        episodes: real episodes of the search. rollouts: model rollouts per real episode (CF-GPS, MB-PS).
        eval_every: real episodes between evaluations. eval_episodes: real episodes per evaluation.
        smoothing: the count policy's pseudo-count.
        seed: real episodes, model draws, evaluation ties.
    """

    method: str = "cf-gps"
    size: int = 5
    horizon: int = 30
    slip: float = 0.1
    real_targets: tuple[tuple[int, int], ...] = ((0, 3), (0, 4), (1, 4))
    model_targets: tuple[tuple[int, int], ...] | None = None
    episodes: int = 200
    rollouts: int = 1
    eval_every: int = 25
    eval_episodes: int = 100
    smoothing: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        if self.method not in CFGPS_METHODS:
            raise InputError(f"{name} method must be one of {', '.join(CFGPS_METHODS)}, got {self.method!r}")
        for field_name in ("size", "horizon", "episodes", "rollouts", "eval_every", "eval_episodes"):
            value = getattr(self, field_name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{name} {field_name} must be an integer >= 1, got {value!r}")
        if not 0 <= self.slip < 1:
            raise InputError(f"{name} slip must be in [0, 1), got {self.slip!r}")
        if not self.smoothing > 0:
            raise InputError(f"{name} smoothing must be > 0, got {self.smoothing!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"{name} seed must be an integer >= 0, got {self.seed!r}")
        if not isinstance(self.size, int) or self.size < 3:
            raise InputError(f"{name} size must be an integer >= 3, got {self.size!r}")
        for field_name in ("real_targets", "model_targets"):
            cells = getattr(self, field_name)
            if cells is None and field_name == "model_targets":
                continue
            if not cells or any(
                len(c) != 2 or not all(isinstance(v, int) and 0 <= v < self.size for v in c) for c in cells
            ):
                raise InputError(
                    f"{name} {field_name} must be cells of the {self.size} x {self.size} room, got {cells!r}"
                )


def _evaluate(real: BoxPushSCM, policy: CountPolicy, episodes: int, seed: int) -> float:
    """Mean return of the greedy policy over ``episodes`` fixed real episodes."""
    rng = np.random.default_rng([seed, 7])
    total = 0.0
    for _ in range(episodes):
        scenario, noise = real.sample_scenario(rng), real.sample_step_noise(rng)
        total += real.simulate(scenario, noise, lambda a, b, t: policy.greedy(a, b, rng))["return"]
    return total / episodes


def run_policy_search(config: CFGPSConfig) -> list[dict[str, float]]:
    """Run the search; the value curve ``[{"real_episodes", "value"}, ...]`` (value: mean return of the
    greedy policy on ``eval_episodes`` fixed real episodes, the same for every method)."""
    from hrl.envs.box_push import BoxPushSCM

    real_targets = tuple(tuple(c) for c in config.real_targets)
    real = BoxPushSCM(config.size, config.horizon, config.slip, real_targets)
    model_targets = None if config.model_targets is None else tuple(tuple(c) for c in config.model_targets)
    model = BoxPushSCM(config.size, config.horizon, config.slip, model_targets)
    planner = Planner(model)
    policy = CountPolicy(config.smoothing)
    world_rng = np.random.default_rng([config.seed, 1])
    act_rng = np.random.default_rng([config.seed, 2])
    model_rng = np.random.default_rng([config.seed, 3])
    curve = [{"real_episodes": 0, "value": _evaluate(real, policy, config.eval_episodes, config.seed)}]
    for episode_index in range(1, config.episodes + 1):
        scenario, noise = real.sample_scenario(world_rng), real.sample_step_noise(world_rng)
        episode = real.simulate(scenario, noise, lambda a, b, t: policy.sample(a, b, act_rng))
        if config.method == "model-free":
            if episode["solved"]:
                policy.fit(episode["agents"], episode["boxes"], episode["actions"], weight=episode["return"])
        else:
            for _ in range(config.rollouts):
                if config.method == "cf-gps":
                    imagined, imagined_noise = sample_posterior(model, episode, model_rng)
                else:
                    imagined, imagined_noise = (
                        model.sample_scenario(model_rng),
                        model.sample_step_noise(model_rng),
                    )
                rollout = model.simulate(
                    imagined, imagined_noise, lambda a, b, t, goal=imagined.target: planner.act(a, b, goal)
                )
                policy.fit(rollout["agents"], rollout["boxes"], rollout["actions"])
        if episode_index % config.eval_every == 0:
            value = _evaluate(real, policy, config.eval_episodes, config.seed)
            curve.append({"real_episodes": episode_index, "value": value})
    return curve
