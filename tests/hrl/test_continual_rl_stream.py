"""The continual RL stream (`hrl.continual.rl_stream`): the Catcher game by hand, the TD step against
its closed form on a linear Q, MER with one inner step and no replay is online SGD, P&C's knowledge
base learns a task by distilling its active column, per-task EWC's penalty is zero at its anchor and
keeps one pair per task, the study publishes its tables and figure, bad
configs are refused naming the field."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.cli import RunOptions
from core.errors import InputError
from hrl.continual import ContinualConfig
from hrl.continual.learners import _init_params
from hrl.continual.rl_stream import Catcher, RLStreamConfig, evaluate_catcher, td_sgd, train_rl_stream


def test_a_catcher_episode_by_hand():
    game = Catcher(width=5, height=4, drift=1)
    obs = game.reset(paddle=2, column=1)
    assert obs.sum() == 4 and obs[1 - 2 + 4] == 1 and obs[9 + 0] == 1 and obs[9 + 4 + 1] == 1
    assert obs[3 * 5 - 1 + 4 + 1] == 1  # no horizontal move yet
    obs, reward, done = game.step(2)  # paddle 3, pellet (1, 2)
    assert (game.paddle, game.pellet, reward, done) == (3, (1, 2), 0.0, False)
    assert obs[3 * 5 - 1 + 4 + 2] == 1  # the pellet moved right
    game.step(2)  # paddle 4, pellet (2, 3)
    obs, reward, done = game.step(1)  # paddle 4, pellet (3, 4): on the paddle, bottom row
    assert (game.paddle, game.pellet, reward, done) == (4, (3, 4), 1.0, True)
    game.reset(paddle=0, column=4)
    for _ in range(3):
        _, reward, done = game.step(0)  # pellet clamped at column 4, paddle stays at 0
    assert (game.pellet, reward, done) == ((3, 4), -1.0, True)


def test_td_step_matches_the_closed_form_on_a_linear_q():
    generator = torch.Generator().manual_seed(0)
    params = [torch.randn(3, 6, generator=generator), torch.randn(3, generator=generator)]
    target = [torch.randn(3, 6, generator=generator), torch.randn(3, generator=generator)]
    obs, next_obs = torch.randn(4, 6, generator=generator), torch.randn(4, 6, generator=generator)
    action, reward, done = (
        torch.tensor([0, 2, 1, 2]),
        torch.randn(4, generator=generator),
        torch.tensor([0, 1, 0, 0.0]),
    )
    new = td_sgd(params, target, (obs, action, reward, next_obs, done), lr=0.1, discount=0.9)
    w, b = params[0].double(), params[1].double()
    goal = (
        reward.double()
        + 0.9
        * (1 - done.double())
        * (next_obs.double() @ target[0].double().T + target[1].double()).max(1).values
    )
    error = (obs.double() @ w.T + b)[torch.arange(4), action] - goal
    grad_w, grad_b = torch.zeros_like(w), torch.zeros_like(b)
    for n in range(4):
        grad_w[action[n]] += error[n] * obs[n].double() / 4
        grad_b[action[n]] += error[n] / 4
    torch.testing.assert_close(new[0].double(), w - 0.1 * grad_w, rtol=0, atol=1e-6)
    torch.testing.assert_close(new[1].double(), b - 0.1 * grad_b, rtol=0, atol=1e-6)


def test_mer_with_one_inner_step_and_no_replay_is_online_q_learning():
    stream = RLStreamConfig(drifts=(0, 1), width=4, height=4, steps_per_task=150)
    one_step = dict(lr=0.05, beta=1.0, gamma=1.0, batches=1, batch_size=1, hidden=(8,))
    mer = train_rl_stream(stream, ContinualConfig(method="mer", **one_step)).result
    online = train_rl_stream(stream, ContinualConfig(method="online", **one_step)).result
    np.testing.assert_array_equal(mer, online)


def test_progress_and_compress_learns_a_catcher_task_through_its_knowledge_base():
    stream = RLStreamConfig(drifts=(0,), width=5, height=5, steps_per_task=1000)
    run = train_rl_stream(stream, ContinualConfig(method="online", hidden=(32,), seed=0), method="pc")
    game = Catcher(5, 5, 0)
    untrained = evaluate_catcher(_init_params([game.features, 32, 3], torch.Generator().manual_seed(0)), game)
    # measured (seed 0): untrained -0.60, active column 0.76, knowledge base 0.84; margins 1.0 and 0.2
    assert run.active[0] > untrained + 1.0, (run.active, untrained)
    assert run.result[0, 0] > run.active[0] - 0.2, (run.result, run.active)


def test_the_rl_study_publishes_its_tables_and_figure(tmp_path):
    from hrl.continual.rl_stream import RL_METHODS
    from hrl.experiments.continual import RLContinualStudy, run_rl_continual_study

    study = RLContinualStudy(
        stream=RLStreamConfig(drifts=(0, 1), width=3, height=3, steps_per_task=20, fisher_states=10),
        seeds=1,
        learner=ContinualConfig(method="online", batches=1, batch_size=2, memory=10, hidden=(4,)),
    )
    tables = run_rl_continual_study(RunOptions(out=tmp_path, seed=0), study)
    assert [t.name for t in tables] == ["continual_rl_catcher", "continual_rl_catcher_per_task"]
    assert len(tables[0].rows) == len(RL_METHODS) and len(tables[1].rows) == 2 * len(RL_METHODS)
    assert (tmp_path / "continual_rl_catcher.png").is_file()
    assert "ewc" in [row["method"] for row in tables[0].rows]


def test_per_task_ewc_is_zero_at_its_anchors_and_keeps_one_pair_per_task():
    from hrl.continual.regularizers import EWCPenalty

    stream = RLStreamConfig(drifts=(0, 1), width=3, height=3, steps_per_task=30, fisher_states=10)
    learner = ContinualConfig(method="ewc", hidden=(4,), ewc_lambda=1.0)
    consolidated = []
    original = EWCPenalty.consolidate

    def spy(self, params, fisher):
        original(self, params, fisher)
        consolidated.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EWCPenalty, "consolidate", spy)
        run = train_rl_stream(stream, learner)
    penalty = consolidated[-1]
    assert len(consolidated) == 2 and not penalty.online and len(penalty.anchors) == 2
    assert run.result.shape == (2, 2) and np.all(np.abs(run.result) <= 1)
    for anchor in penalty.anchors:
        assert float(penalty(anchor)) > 0  # the other task's quadratic
    lone = EWCPenalty(2.0, online=False)
    lone.consolidate(penalty.anchors[0], penalty.fishers[0])
    assert float(lone(penalty.anchors[0])) == 0.0
    moved = [a + 0.1 for a in penalty.anchors[0]]
    expected = 0.5 * 2.0 * sum(float((f * 0.01).sum()) for f in penalty.fishers[0])
    assert float(lone(moved)) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("drifts", ()),
        ("width", 2),
        ("steps_per_task", 0),
        ("epsilon", 1.5),
        ("temperature", 0.0),
        ("compress_epochs", 0),
    ],
)
def test_bad_rl_stream_configs_are_refused_naming_the_field(field, value):
    with pytest.raises(InputError, match=field):
        RLStreamConfig(**{field: value})
    with pytest.raises(InputError, match="gem"):
        train_rl_stream(RLStreamConfig(steps_per_task=1), ContinualConfig(method="gem"))
