"""Reward learning from preferences and demonstrations on ALE (``reproduce hrl --only preferences``).

Ibarz, Leike, Pohlen, Irving, Legg and Amodei, "Reward learning from human preferences and
demonstrations in Atari" (NeurIPS 2018). The agent never sees the game score: a DQfD agent
(`hrl.agents.dqfd`) is trained on the reward of a reward model (`hrl.preferences.RewardModel` on the
newest frame) that is fitted online to preferences over pairs of 25-step clips of the agent's own
play, labelled by `hrl.preferences.SyntheticLabeller` from the true score (the paper's automatic
setting, with label noise). The settings:

- ``random``: the uniformly random policy (the floor; without demonstrations or preferences the agent
  has no signal, so this is the meaningful 'neither' row).
- ``demos``: DQfD pretraining on the demonstrations and their large-margin loss throughout, the
  reward model never trained (reward 0): imitation. The paper's 'imitation' baseline is, as we read
  it, the same: the agent trained from the demonstrations alone, without a reward.
- ``prefs``: no demonstrations, the reward model trained from preferences throughout.
- ``demos+prefs``: both.
- ``prefs, frozen``: as ``prefs`` but the reward model stops being trained after ``freeze_at`` of
  the budget: the paper's reward-hacking probe (its Figure: the learned reward keeps rising while the
  true score drops once the model is no longer corrected). The table reports both returns.

Game: Freeway (cross the road; +1 per crossing), 42 x 42 grayscale, 4 stacked frames, episodes cut at
``max_episode_steps``. Demonstrations: a scripted player that presses UP with probability
``demo_up_prob`` and a uniformly random action otherwise (no trained expert is needed on Freeway).

The paper's finding (our summary, ``/work/shared/papers/hrl.md`` sec. 10): a few thousand
preferences help in most games unless rewards are sparse; demonstrations help sparse-reward games
if the demonstrator is good. Per-game numbers of the paper are not in our summary (``PAPER``).

Budgets: `SMOKE` (minutes), `FULL` (hours in its docstring). Finished runs are read back from
``OUT/preferences_runs.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from hrl.agents.dqfd import DQfDConfig

__all__ = ["FULL", "PAPER", "SETTINGS", "SMOKE", "PreferenceStudy", "preferences", "run_setting"]

SETTINGS = ("random", "demos", "prefs", "demos+prefs", "prefs, frozen")

PAPER = {
    "preferences": "a few thousand preferences help in most games, unless rewards are sparse",
    "demonstrations": "help games with sparse rewards, if the demonstrator is good",
    "reward hacking": "with the reward model no longer trained, the agent exploits it",
    "abstract": "beats the imitation learning baseline in 7 games [of 9] ... strictly superhuman on 2",
}
"""The paper's findings as our summary and the paper's abstract state them (no per-game numbers here)."""


@dataclass(frozen=True)
class PreferenceStudy:
    """Budget of the study.

    Attributes:
        game, screen_size, stack, max_episode_steps: the ALE game and its preprocessing.
        settings: which of `SETTINGS` to run; seeds: runs per setting.
        total_steps: agent steps per run (4 frames each).
        demo_episodes, demo_up_prob: the scripted demonstrator.
        clip_len: steps per clip; pref_every: agent steps between labelling rounds;
        labels_per_round: pairs labelled per round; label_accuracy: the labeller's accuracy.
        reward_epochs, reward_lr, reward_hidden: reward-model fitting per round.
        reward_scale: standard deviation the reward model's output is normalised to (ours).
        fit_pairs: at most this many labelled pairs (a random subset) per refit.
        freeze_at: fraction of the budget after which ``prefs, frozen`` stops training the model.
        agent: `DQfDConfig` (``seed`` set per run).
    """

    game: str = "ALE/Freeway-v5"
    screen_size: int = 42
    stack: int = 4
    max_episode_steps: int = 400
    settings: tuple[str, ...] = SETTINGS
    seeds: int = 1
    total_steps: int = 6000
    demo_episodes: int = 3
    demo_up_prob: float = 0.9
    clip_len: int = 25
    pref_every: int = 500
    labels_per_round: int = 40
    label_accuracy: float = 0.9
    reward_epochs: int = 5
    reward_lr: float = 1e-3
    reward_hidden: tuple[int, ...] = (64, 64)
    reward_scale: float = 0.1
    fit_pairs: int = 2000
    freeze_at: float = 0.25
    agent: DQfDConfig = field(
        default_factory=lambda: DQfDConfig(
            buffer_size=20_000,
            pretrain_steps=300,
            learning_starts=400,
            eps_decay_steps=4000,
            target_every=250,
        )
    )

    def __post_init__(self) -> None:
        for s in self.settings:
            if s not in SETTINGS:
                raise InputError("unknown preferences setting", item=s, expected=", ".join(SETTINGS))
        if not 0.0 < self.freeze_at < 1.0:
            raise InputError("PreferenceStudy.freeze_at must be in (0, 1)", item=self.freeze_at)
        if self.clip_len < 2 or self.total_steps < 1 or self.seeds < 1:
            raise InputError(
                "clip_len >= 2, total_steps and seeds >= 1", item=(self.clip_len, self.total_steps)
            )


SMOKE = PreferenceStudy()
"""1 seed, 6000 agent steps (24 000 frames) per setting (minutes per setting on one core: the table's column)."""

FULL = PreferenceStudy(
    max_episode_steps=2048,
    seeds=3,
    total_steps=500_000,
    demo_episodes=10,
    pref_every=5000,
    labels_per_round=100,
    agent=DQfDConfig(buffer_size=200_000, pretrain_steps=20_000, eps_decay_steps=100_000, target_every=2000),
)
"""3 seeds x 4 trained settings x 500k agent steps (2M frames; the paper ran 50M), not run: the smoke's
trained runs went at 11-22 agent steps/s on one thread of the shared, loaded 2-core machine (README),
so about 6-12 h per run, 80-150 h for the 12 trained runs on one core (less on an idle core)."""


def _env(study: PreferenceStudy):
    from hrl.envs.atari import make_atari

    return make_atari(
        study.game,
        screen_size=study.screen_size,
        stack=study.stack,
        max_episode_steps=study.max_episode_steps,
    )


def scripted_demonstrations(study: PreferenceStudy, seed: int) -> list[dict]:
    """Episodes of the scripted player (UP with probability ``demo_up_prob``, else uniform)."""
    env = _env(study)
    rng = np.random.default_rng(seed + 10_000)
    demos = []
    for e in range(study.demo_episodes):
        obs, _ = env.reset(seed=seed + 10_000 + e)
        frames, actions, rewards = [np.asarray(obs)], [], []
        while True:
            a = 1 if rng.random() < study.demo_up_prob else int(rng.integers(env.action_space.n))
            obs, r, term, trunc, _ = env.step(a)
            frames.append(np.asarray(obs))
            actions.append(a)
            rewards.append(float(r))
            if term or trunc:
                break
        demos.append(
            {"obs": np.stack(frames), "actions": actions, "rewards": rewards, "terminated": bool(term)}
        )
    env.close()
    return demos


class OnlineRewardModel:
    """The reward model on the newest frame, refitted from the labelled pairs, output normalised."""

    def __init__(self, study: PreferenceStudy, seed: int) -> None:
        import torch

        from hrl.preferences.reward_model import RewardModel, SyntheticLabeller

        torch.manual_seed(seed)
        self.study = study
        self.model = RewardModel(study.screen_size**2, study.reward_hidden)
        self.labeller = SyntheticLabeller(study.label_accuracy, seed=seed)
        self.rng = np.random.default_rng(seed + 1)
        self.pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.mean, self.std = 0.0, 1.0
        self.labels = 0

    @staticmethod
    def features(frames: np.ndarray):
        """(..., C, H, W) uint8 stacks -> (..., H*W) float tensors of the newest frame."""
        import torch

        x = torch.as_tensor(np.asarray(frames)[..., -1, :, :], dtype=torch.float32) / 255.0
        return x.flatten(-2)

    def reward(self, obs):
        """reward_fn for DQfD: (B, C, H, W) uint8 -> (B,) normalised r̂."""
        import torch

        with torch.no_grad():
            r = self.model(self.features(obs.numpy() if hasattr(obs, "numpy") else obs)[:, None]).squeeze(1)
        return (r - self.mean) / self.std * self.study.reward_scale

    def predicted_return(self, frames: np.ndarray) -> float:
        return float(self.reward(frames).sum())

    def round(self, clips: list[tuple[np.ndarray, float]]) -> None:
        """Label ``labels_per_round`` random pairs of `clips` ((clip_len, C, H, W) frames, true return) and refit."""
        import torch

        from hrl.preferences.reward_model import fit_reward_model

        if len(clips) < 2:
            return
        i = self.rng.integers(len(clips), size=self.study.labels_per_round)
        j = self.rng.integers(len(clips), size=self.study.labels_per_round)
        mu = self.labeller.label(np.array([clips[k][1] for k in i]), np.array([clips[k][1] for k in j]))
        for a, b, m in zip(i, j, mu, strict=True):  # the newest frames only: (clip_len, 1, H, W)
            self.pairs.append((clips[a][0][:, -1:], clips[b][0][:, -1:], float(m)))
        self.labels += len(mu)
        pairs = self.pairs
        if len(pairs) > self.study.fit_pairs:  # a random subset of the labels per refit (memory)
            pick = self.rng.choice(len(pairs), self.study.fit_pairs, replace=False)
            pairs = [pairs[k] for k in pick]
        c1 = torch.stack([self.features(p[0]) for p in pairs])
        c2 = torch.stack([self.features(p[1]) for p in pairs])
        fit_reward_model(
            self.model,
            c1,
            c2,
            torch.tensor([p[2] for p in pairs], dtype=torch.float32),
            epochs=self.study.reward_epochs,
            lr=self.study.reward_lr,
            seed=int(self.rng.integers(1 << 30)),
        )
        with torch.no_grad():
            r = self.model(torch.cat([c1, c2])[-2000:]).flatten()
        self.mean, self.std = float(r.mean()), float(r.std().clamp(min=1e-6))


def run_setting(study: PreferenceStudy, setting: str, seed: int) -> dict[str, Any]:
    """One run: per training episode its frames so far, true score and the reward model's return."""
    from hrl.agents.dqfd import DQfD

    env = _env(study)
    start = time.time()
    episodes: list[dict[str, float]] = []
    if setting == "random":
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        ret, steps = 0.0, 0
        for _ in range(study.total_steps):
            _, r, term, trunc, _ = env.step(int(rng.integers(env.action_space.n)))
            ret, steps = ret + float(r), steps + 1
            if term or trunc:
                episodes.append({"frames": 4 * steps, "score": ret, "predicted": 0.0})
                env.reset()
                ret = 0.0
        env.close()
        return {
            "setting": setting,
            "seed": seed,
            "episodes": episodes,
            "labels": 0,
            "seconds": time.time() - start,
        }
    use_demos = "demos" in setting
    use_prefs = "prefs" in setting
    demos = scripted_demonstrations(study, seed) if use_demos else None
    model = OnlineRewardModel(study, seed)
    reward_fn = model.reward
    if not use_prefs:
        import torch

        reward_fn = lambda obs: torch.zeros(len(obs))  # noqa: E731 - the untrained model: no reward
    agent = DQfD(
        env.observation_space.shape,
        int(env.action_space.n),
        replace(study.agent, seed=seed),
        reward_fn=reward_fn,
        demonstrations=demos,
    )
    if use_demos:
        agent.pretrain()
    freeze_step = int(study.freeze_at * study.total_steps) if "frozen" in setting else None
    clips: list[tuple[np.ndarray, float]] = []
    obs, _ = env.reset(seed=seed)
    obs = np.asarray(obs)
    seg_frames, seg_ret, ret, ep_frames = [], 0.0, 0.0, []
    for t in range(1, study.total_steps + 1):
        action = agent.predict(obs, deterministic=False)
        nxt, r, term, trunc, _ = env.step(action)
        nxt = np.asarray(nxt)
        agent.step(obs, action, float(r), nxt, (bool(term), bool(trunc)))
        seg_frames.append(nxt)
        ep_frames.append(nxt[-1])
        seg_ret += float(r)
        ret += float(r)
        if len(seg_frames) == study.clip_len:
            clips.append((np.stack(seg_frames), seg_ret))
            clips = clips[-200:]
            seg_frames, seg_ret = [], 0.0
        if use_prefs and t % study.pref_every == 0 and (freeze_step is None or t <= freeze_step):
            model.round(clips)
        obs = nxt
        if term or trunc:
            stacked = np.stack(ep_frames)[:, None]  # (T, 1, H, W): the newest frame per step
            predicted = model.predicted_return(stacked) if use_prefs else 0.0
            episodes.append({"frames": 4 * t, "score": ret, "predicted": predicted})
            obs, _ = env.reset()
            obs = np.asarray(obs)
            seg_frames, seg_ret, ret, ep_frames = [], 0.0, 0.0, []
    env.close()
    return {
        "setting": setting,
        "seed": seed,
        "episodes": episodes,
        "demonstrator": [sum(d["rewards"]) for d in demos] if demos else [],
        "labels": model.labels,
        "seconds": time.time() - start,
    }


def use_demos(setting: str) -> bool:
    return "demos" in setting


def run_preferences_study(options: Any, study: PreferenceStudy) -> list[Any]:
    """Every setting and seed (resuming from ``OUT/preferences_runs.json``); the table and figure."""
    from core.files import atomic_write
    from core.progress import progress
    from core.results import ResultTable, mean_sd

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "preferences_runs.json"
    settings = json.loads(json.dumps(asdict(study), default=str))
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    if cache.get("settings") != settings:
        cache = {"settings": settings, "runs": {}}
    todo = [(s, options.seed + i) for s in study.settings for i in range(study.seeds)]
    for setting, seed in progress(todo, "preference runs"):
        key = f"{setting}/{seed}"
        if key not in cache["runs"]:
            cache["runs"][key] = run_setting(study, setting, seed)
            text = json.dumps(cache, indent=1)
            atomic_write(cache_path, lambda tmp, text=text: Path(tmp).write_text(text))
    rows = []
    for setting in study.settings:
        runs = [cache["runs"][f"{setting}/{s}"] for g, s in todo if g == setting]
        first = [np.mean([e["score"] for e in r["episodes"][:3]]) for r in runs if r["episodes"]]
        last = [np.mean([e["score"] for e in r["episodes"][-3:]]) for r in runs if r["episodes"]]
        pred = [np.mean([e["predicted"] for e in r["episodes"][-3:]]) for r in runs if r["episodes"]]
        paper = {
            "demos": PAPER["demonstrations"],
            "prefs": PAPER["preferences"],
            "demos+prefs": PAPER["abstract"],
            "prefs, frozen": PAPER["reward hacking"],
        }.get(setting, "")
        rows.append(
            {
                "setting": setting,
                "true score, first 3 episodes": mean_sd(first, digits=2),
                "true score, last 3 episodes": mean_sd(last, digits=2),
                "learned return, last 3": mean_sd(pred, digits=2) if "prefs" in setting else None,
                "demonstrator score": mean_sd([x for r in runs for x in r.get("demonstrator", [])], digits=2)
                if use_demos(setting)
                else None,
                "labels": int(np.mean([r["labels"] for r in runs])),
                "episodes": int(np.mean([len(r["episodes"]) for r in runs])),
                "minutes": round(float(np.mean([r["seconds"] for r in runs])) / 60, 1),
                "paper": paper,
            }
        )
    a = study.agent
    notes = (
        f"{study.game} at {study.screen_size}x{study.screen_size}, {study.stack} frames, episodes of "
        f"{study.max_episode_steps} agent steps ({4 * study.max_episode_steps} frames), {study.total_steps} agent "
        f"steps per run, {study.seeds} seed(s) from {options.seed}; true score hidden from the agent. DQfD "
        f"(n={a.n_step}, margin {a.margin}, lambda_n {a.lambda_n}, lambda_E {a.lambda_e}, L2 {a.l2}, "
        f"{a.pretrain_steps} pretraining updates, demo priority bonus {a.demo_bonus}); demonstrations: "
        f"{study.demo_episodes} episodes of a scripted player (UP with p={study.demo_up_prob}, else random). "
        f"Preferences: {study.labels_per_round} pairs of {study.clip_len}-step clips every {study.pref_every} "
        f"steps, labeller accuracy {study.label_accuracy}; 'prefs, frozen' stops fitting after "
        f"{study.freeze_at:.0%} of the budget. 'learned return': the reward model's (normalised) sum over the "
        "episode. Scores are of the training episodes (epsilon-greedy)."
    )
    table = ResultTable(
        name="preferences_atari",
        rows=rows,
        title="Reward learning from preferences and demonstrations: true score with the learned reward",
        notes=notes,
        data=f"ALE ({study.game}) through ale-py",
    )
    options.publish(table)
    _figure(out, study, cache, todo)
    return [table]


def _figure(out: Path, study: PreferenceStudy, cache: dict[str, Any], todo: list[tuple[str, int]]) -> None:
    from core.plots import new_figure, save_figure

    figure = new_figure(9.0, 3.4)
    axes = figure.add_subplot(1, 2, 1)
    hack = figure.add_subplot(1, 2, 2)
    for setting in study.settings:
        for g, seed in todo:
            if g != setting:
                continue
            eps = cache["runs"][f"{setting}/{seed}"]["episodes"]
            axes.plot(
                [e["frames"] for e in eps],
                [e["score"] for e in eps],
                label=setting if seed == todo[0][1] else None,
            )
            if "prefs" in setting:
                hack.plot([e["frames"] for e in eps], [e["predicted"] for e in eps], label=setting)
    axes.set_xlabel("frames")
    axes.set_ylabel("true score per episode")
    axes.legend(fontsize=7)
    hack.set_xlabel("frames")
    hack.set_ylabel("learned reward per episode")
    if "prefs, frozen" in study.settings:
        hack.axvline(4 * study.freeze_at * study.total_steps, color="grey", ls=":")
    hack.legend(fontsize=7)
    save_figure(figure, out / "preferences_atari.png")


def preferences(options: Any) -> list[Any]:
    """``reproduce hrl --only preferences`` at ``options.scale`` (`SMOKE` or `FULL`)."""
    return run_preferences_study(options, SMOKE if options.scale == "smoke" else FULL)
