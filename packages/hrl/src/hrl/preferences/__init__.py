"""Reward learning from preferences (Ibarz et al. 2018, issue 21): the reward model and the labeller."""
