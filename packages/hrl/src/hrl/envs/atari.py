"""Atari games through ``ale-py`` (its ROMs ship in the wheel) with the standard preprocessing.

`make_atari` builds Burda et al. (2019)'s and the Nature-DQN setting: the ALE v5 game with sticky
actions (repeat probability 0.25, the v5 default) and no built-in frame skip, then gymnasium's
``AtariPreprocessing`` (up to 30 no-op starts, a frame skip of 4 with max-pooling over the last two
frames, 84 x 84 grayscale) and ``FrameStackObservation`` (the last 4 frames). Observations are
(4, 84, 84) uint8, channels first, the layout PPO's CNN policy (`hrl.agents.ppo.CnnActorCritic`) takes.
"""

from __future__ import annotations

from typing import Any

from core.errors import InputError

__all__ = ["make_atari"]


def make_atari(
    game: str = "ALE/Breakout-v5",
    *,
    frame_skip: int = 4,
    stack: int = 4,
    screen_size: int = 84,
    noop_max: int = 30,
    max_episode_steps: int | None = None,
    **kwargs: Any,
) -> Any:
    """A preprocessed, frame-stacked Atari env; `kwargs` go to ``gymnasium.make`` (e.g. ``render_mode``).

    Args:
        game: an ALE id, ``ALE/<Game>-v5``.
        max_episode_steps: agent steps (each `frame_skip` frames) before truncation; None: ALE's limit.

    Raises:
        InputError: `game` is not a registered ALE game, or a size or count is not positive.
    """
    import ale_py
    import gymnasium as gym

    for name, value in (("frame_skip", frame_skip), ("stack", stack), ("screen_size", screen_size)):
        if not isinstance(value, int) or value < 1:
            raise InputError(f"make_atari's {name} must be a positive integer", item=value)
    gym.register_envs(ale_py)
    if game not in gym.registry or not game.startswith("ALE/"):
        raise InputError("unknown Atari game (expected an id such as ALE/Breakout-v5)", item=game)
    env = gym.make(game, frameskip=1, max_episode_steps=None, **kwargs)
    env = gym.wrappers.AtariPreprocessing(
        env, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size, grayscale_obs=True
    )
    if max_episode_steps is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps)
    return gym.wrappers.FrameStackObservation(env, stack)
