"""Agents with Stable-Baselines3's shape: ``Agent(env, config)``, ``learn``, ``predict``, ``save``/``load``.

Modules: `hrl.agents.base` (`OffPolicyAgent`: the environment loop, checkpoints, resume and
save/load every replay-buffer agent shares), `hrl.agents.td3` (TD3 and its minibatch update
`TD3Learner`), `hrl.agents.hiro` (HIRO), `hrl.agents.ppo` (PPO: on-policy, batched rollouts from a vector env), `hrl.agents.common` (space checks, episode seeding),
`hrl.agents.dqfd` (DQfD: n-step double DQN with the large-margin demonstration loss, reward from a reward model).
Import them directly; ``import hrl.agents`` loads no torch.
"""
