"""hrl: hierarchical and other reinforcement learning, built on gymnasium and torch.

Agents follow Stable-Baselines3's shape so they swap in for its agents::

    import gymnasium as gym
    from hrl import TD3, TD3Config

    agent = TD3(gym.make("Pendulum-v1"), TD3Config(learning_starts=1000))
    agent.learn(total_timesteps=20_000, checkpoint="runs/td3.safetensors")
    action, _ = agent.predict(obs, deterministic=True)

What exists and what is planned is listed in the package README. ``import hrl`` is cheap: names
load from their modules on first use (PEP 562), so neither torch nor gymnasium is imported by
``import hrl`` or ``hrl --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:  # what static tools see; at run time `__getattr__` loads names on first use
    from hrl.agents.diayn import DIAYN
    from hrl.agents.dqfd import DQfD, DQfDConfig
    from hrl.agents.hiro import HIRO
    from hrl.agents.max import MAXExplorer
    from hrl.agents.ppo import PPO
    from hrl.agents.sac import SAC
    from hrl.agents.td3 import TD3, TD3Learner
    from hrl.buffers import BufferConfig, ReplayBuffer, transition_fields
    from hrl.config import DIAYNConfig, HIROConfig, MAXConfig, PPOConfig, SACConfig, TD3Config
    from hrl.continual import ContinualConfig, ReservoirBuffer, continual_metrics, train_stream
    from hrl.evaluation import evaluate_policy
    from hrl.goals import goal_transition, low_level_reward, off_policy_goal_correction
    from hrl.intrinsic import EnsembleDisagreement, ForwardModelCuriosity, IntrinsicReward
    from hrl.multiagent.a2c import SocialA2C
    from hrl.multiagent.config import SocialConfig
    from hrl.multiagent.rfm import RelationalForwardModel

_WHERE = {
    "RelationalForwardModel": "hrl.multiagent.rfm",
    "SocialA2C": "hrl.multiagent.a2c",
    "SocialConfig": "hrl.multiagent.config",
    **dict.fromkeys(
        ("ContinualConfig", "ReservoirBuffer", "continual_metrics", "train_stream"), "hrl.continual"
    ),
    "DIAYN": "hrl.agents.diayn",
    "DIAYNConfig": "hrl.config",
    "DQfD": "hrl.agents.dqfd",
    "DQfDConfig": "hrl.agents.dqfd",
    "EnsembleDisagreement": "hrl.intrinsic",
    "ForwardModelCuriosity": "hrl.intrinsic",
    "IntrinsicReward": "hrl.intrinsic",
    "MAXConfig": "hrl.config",
    "MAXExplorer": "hrl.agents.max",
    "PPO": "hrl.agents.ppo",
    "PPOConfig": "hrl.config",
    "SAC": "hrl.agents.sac",
    "SACConfig": "hrl.config",
    "HIRO": "hrl.agents.hiro",
    "HIROConfig": "hrl.config",
    "goal_transition": "hrl.goals",
    "low_level_reward": "hrl.goals",
    "off_policy_goal_correction": "hrl.goals",
    "BufferConfig": "hrl.buffers",
    "ReplayBuffer": "hrl.buffers",
    "TD3": "hrl.agents.td3",
    "TD3Config": "hrl.config",
    "TD3Learner": "hrl.agents.td3",
    "evaluate_policy": "hrl.evaluation",
    "transition_fields": "hrl.buffers",
}

__all__ = [
    "DIAYN",
    "HIRO",
    "PPO",
    "SAC",
    "TD3",
    "BufferConfig",
    "ContinualConfig",
    "DIAYNConfig",
    "DQfD",
    "DQfDConfig",
    "EnsembleDisagreement",
    "ForwardModelCuriosity",
    "HIROConfig",
    "IntrinsicReward",
    "MAXConfig",
    "MAXExplorer",
    "PPOConfig",
    "RelationalForwardModel",
    "ReplayBuffer",
    "ReservoirBuffer",
    "SACConfig",
    "SocialA2C",
    "SocialConfig",
    "TD3Config",
    "TD3Learner",
    "continual_metrics",
    "evaluate_policy",
    "goal_transition",
    "low_level_reward",
    "off_policy_goal_correction",
    "train_stream",
    "transition_fields",
]
__version__ = "0.1.0"


__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
