"""Human-guided RL: the human-priors platformer study (Dubey et al. 2018).

`hrl.human.config` (torch-free configs), `hrl.human.count_q` (a count-based tabular Q-learner on
hashed pixels, the study's RL agent), `hrl.human.play` (terminal play, recorded trajectories and their
replay, the ``hrl play priors`` / ``hrl replay`` commands). The game is `hrl.envs.priors`.
"""
