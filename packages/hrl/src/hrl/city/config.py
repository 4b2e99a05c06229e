"""Torch-free configs of the city-navigation study (Mirowski et al., NeurIPS 2018), validated.

`CityConfig` builds a procedural city (`hrl.envs.city`); `CityNavConfig` is the CityNav agent and its
A2C learner (`hrl.city.agent`). Units: metres and degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InputError

__all__ = ["ACTIONS", "CityConfig", "CityNavConfig"]

ACTIONS = ("turn left 22.5", "turn right 22.5", "turn left 67.5", "turn right 67.5", "forward")
"""The paper's five actions: slow and fast rotations and a step to the next node along the heading."""


def _positive(name: str, value: float, integer: bool = False) -> None:
    if integer and (not isinstance(value, int) or isinstance(value, bool)):
        raise InputError(f"{name} must be an integer", item=f"{name}={value!r}")
    if not value > 0:
        raise InputError(f"{name} must be positive", item=f"{name}={value!r}")


@dataclass(frozen=True)
class CityConfig:
    """A procedural city: a street grid with random deletions, landmarks, first-person views.

    Attributes:
        size: intersections per side (the street graph is a ``size x size`` grid before deletions).
        spacing_m: metres between neighbouring intersections.
        delete_fraction: share of the grid's street segments removed (the graph stays connected).
        n_landmarks: K, landmark blocks whose distances to the goal form the goal descriptor.
        alpha: the descriptor's soft-max scale, per metre (the paper's 0.002 as we recall it).
        image_size: side of the square colour view in pixels.
        fov_deg: horizontal field of view of the view.
        max_steps: steps per episode (courier: a reached goal is replaced by a new one).
        max_goal_distance_m: goals are drawn within this straight-line distance of the agent (the
            curriculum raises it during training; None: anywhere in the city).
        goal_reward: reward for reaching the goal node.
        shaping_radius_m: early-reward radius (the paper's 200 m): inside it each new closest
            approach to the goal pays ``shaping_scale * goal_reward`` times the metres gained / radius.
        shaping_scale: total early reward of one approach as a fraction of the goal reward (ours).
        city_seed: the city's layout, colours and landmarks.
    """

    size: int = 5
    spacing_m: float = 100.0
    delete_fraction: float = 0.2
    n_landmarks: int = 8
    alpha: float = 0.002
    image_size: int = 32
    fov_deg: float = 60.0
    max_steps: int = 200
    max_goal_distance_m: float | None = None
    goal_reward: float = 1.0
    shaping_radius_m: float = 200.0
    shaping_scale: float = 0.5
    city_seed: int = 0

    def __post_init__(self) -> None:
        _positive("size", self.size, integer=True)
        if self.size < 2:
            raise InputError("size must be at least 2", item=f"size={self.size}")
        for name in ("spacing_m", "alpha", "fov_deg", "goal_reward"):
            _positive(name, getattr(self, name))
        for name in ("n_landmarks", "image_size", "max_steps"):
            _positive(name, getattr(self, name), integer=True)
        if self.image_size < 16:
            raise InputError("image_size must be at least 16", item=f"image_size={self.image_size}")
        if not 0.0 <= self.delete_fraction < 1.0:
            raise InputError(
                "delete_fraction must be in [0, 1)", item=f"delete_fraction={self.delete_fraction}"
            )
        if self.n_landmarks > (self.size - 1) ** 2 + 4 * self.size:
            raise InputError("more landmarks than blocks", item=f"n_landmarks={self.n_landmarks}")
        if self.max_goal_distance_m is not None:
            _positive("max_goal_distance_m", self.max_goal_distance_m)
        if self.shaping_radius_m < 0 or self.shaping_scale < 0:
            raise InputError(
                "shaping_radius_m and shaping_scale must be >= 0",
                item=f"shaping_radius_m={self.shaping_radius_m}, shaping_scale={self.shaping_scale}",
            )


@dataclass(frozen=True)
class CityNavConfig:
    """CityNav (visual CNN, goal LSTM as the city pathway, policy LSTM) trained by synchronous A2C.

    The paper trains with IMPALA (many actors, V-trace); here one process steps ``n_envs`` copies and
    updates every ``n_steps`` (truncated back-propagation through both LSTMs over the rollout).

    Attributes:
        n_envs, n_steps: parallel environments and rollout length.
        learning_rate: Adam's step size; max_grad_norm: gradient clipping.
        gamma: discount; ent_coef, value_coef: entropy bonus and value-loss weight.
        heading_coef: weight of the auxiliary heading prediction (16 bins) from the goal LSTM.
        hidden_goal, hidden_policy, features: LSTM and CNN feature widths.
        curriculum_start_m, curriculum_steps: goals start within ``curriculum_start_m`` of the agent
            and the radius grows linearly to the whole city over ``curriculum_steps`` steps (0: off).
        seed: network initialisation, actions and episode seeds.
    """

    n_envs: int = 8
    n_steps: int = 20
    learning_rate: float = 1e-3
    max_grad_norm: float = 40.0
    gamma: float = 0.95
    ent_coef: float = 0.01
    value_coef: float = 0.5
    heading_coef: float = 0.5
    hidden_goal: int = 64
    hidden_policy: int = 128
    features: int = 128
    curriculum_start_m: float = 150.0
    curriculum_steps: int = 20_000
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_envs", "n_steps", "hidden_goal", "hidden_policy", "features"):
            _positive(name, getattr(self, name), integer=True)
        for name in ("learning_rate", "max_grad_norm", "curriculum_start_m"):
            _positive(name, getattr(self, name))
        if not 0.0 <= self.gamma < 1.0:
            raise InputError("gamma must be in [0, 1)", item=f"gamma={self.gamma}")
        for name in ("ent_coef", "value_coef", "heading_coef"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0", item=f"{name}={getattr(self, name)}")
        if not isinstance(self.curriculum_steps, int) or self.curriculum_steps < 0:
            raise InputError(
                "curriculum_steps must be an integer >= 0", item=f"curriculum_steps={self.curriculum_steps}"
            )
