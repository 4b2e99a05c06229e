"""The Atari curiosity study (``reproduce hrl --only curiosity-atari``): its smoke config builds the
paper's setting (intrinsic reward only, infinite horizon, normalisation) on 42 x 42 Breakout frames, and a
tiny study runs end to end through the study's API, publishing the score table and the figure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.cli import RunOptions
from core.errors import InputError
from hrl.experiments.curiosity import (
    ATARI_FULL,
    ATARI_SMOKE,
    CuriosityStudy,
    _make_env,
    run_curiosity_study,
)


def test_the_smoke_config_is_breakout_in_small_frames_without_a_maze_or_episodic_run():
    assert ATARI_SMOKE.envs == ("ALE/Breakout-v5",) and not ATARI_SMOKE.episodic
    assert set(ATARI_SMOKE.features) == {"pixels", "random", "idf"}
    assert all(env.startswith("ALE/") for env in ATARI_FULL.envs) and len(ATARI_FULL.envs) == 4
    env = _make_env(ATARI_SMOKE, "ALE/Breakout-v5", None)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 42, 42) and obs.dtype == np.uint8
    assert env.observation_space.shape == (4, 42, 42)
    with pytest.raises(InputError, match="atari_screen"):
        CuriosityStudy(atari_screen=0)


def test_a_tiny_atari_study_publishes_scores_and_the_figure(tmp_path):
    study = replace(
        ATARI_SMOKE,
        features=("random",),
        atari_steps=64,
        n_envs=1,
        n_steps=32,
        feature_dim=32,
        hidden=32,
        stats_steps=16,
        atari_max_steps=12,
        report_every=32,
    )
    tables = run_curiosity_study(RunOptions(out=tmp_path, seed=0), study)
    rows = tables[0].rows
    assert [row["method"] for row in rows] == ["random-policy", "random"]
    for row in rows:
        # the first 12-step episode ends at step 12, inside the first quarter of 64 steps
        assert row["extrinsic_return_all"].mean is not None
        assert row["extrinsic_return_first_quarter"].n == 1
        assert "cells_visited" not in row
    assert (tmp_path / "curiosity_atari.png").exists()
    assert not (tmp_path / "curiosity.png").exists()
