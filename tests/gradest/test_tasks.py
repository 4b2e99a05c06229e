"""Tasks and training: models checked against brute force, learning beats trivial baselines, resumption."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from core.errors import CheckpointMismatchError, InputError
from gradest.attention import AttentionConfig, Locator, paste
from gradest.data import load_binarized_digits, make_canvases
from gradest.tasks import AttentionTask, DigitVAETask
from gradest.toy import ToyConfig, toy_problem, train_toy
from gradest.train import TrainConfig, fit
from gradest.vae import CategoricalVAE, VAEConfig


@pytest.fixture(scope="module")
def digits():
    return load_binarized_digits()


def test_digits_are_binary_and_split_without_overlap(digits):
    assert digits.train.shape[1] == 64 and digits.test.shape[1] == 64
    assert set(digits.train.unique().tolist()) == {0.0, 1.0}
    assert digits.train.shape[0] + digits.test.shape[0] == 1797
    with pytest.raises(InputError, match="test_fraction"):
        load_binarized_digits(test_fraction=1.0)


def test_canvases_hold_the_digit_at_its_position_and_paste_matches_slicing(digits):
    canvases, glyphs, positions = make_canvases(digits.train[:5], 12, torch.Generator().manual_seed(0))
    side = 5
    z = torch.nn.functional.one_hot(positions, side * side).float().unsqueeze(0)
    pasted = paste(z, glyphs, 12)[0]
    for i in range(5):
        row, col = divmod(int(positions[i]), side)
        manual = torch.zeros(12, 12)
        manual[row : row + 8, col : col + 8] = glyphs[i]
        assert torch.equal(canvases[i], manual)
        assert torch.allclose(pasted[i], manual)
    with pytest.raises(InputError, match="at least as large"):
        make_canvases(digits.train[:2], 7)
    with pytest.raises(InputError, match="clutter"):
        make_canvases(digits.train[:2], 12, clutter=1.5)


def test_vae_exact_bounds_match_brute_force_enumeration(digits):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = CategoricalVAE(VAEConfig(num_categories=5, hidden=16))
    x = digits.test[:7]
    neg_elbo, nll = model.exact_bounds(x)
    with torch.no_grad():
        q = torch.softmax(model.encoder(x), -1)
        brute_elbo, brute_marginal = [], []
        for i in range(7):
            log_lik = []
            for k in range(5):
                probs = torch.sigmoid(model.decoder(torch.eye(5)[k]))
                log_lik.append(float((x[i] * probs.log() + (1 - x[i]) * (1 - probs).log()).sum()))
            elbo = sum(
                float(q[i, k]) * (log_lik[k] + math.log(1 / 5) - math.log(float(q[i, k]))) for k in range(5)
            )
            brute_elbo.append(-elbo)
            brute_marginal.append(-math.log(sum(math.exp(v) / 5 for v in log_lik)))
    assert neg_elbo == pytest.approx(sum(brute_elbo) / 7, rel=1e-4)
    assert nll == pytest.approx(sum(brute_marginal) / 7, rel=1e-4)
    assert neg_elbo >= nll  # the ELBO bounds log p(x) from below


def test_toy_learning_with_rb_reinforce_approaches_the_optimum():
    config = ToyConfig(steps=200, replicates=4)
    _, objective = toy_problem(config)
    table = objective(torch.eye(config.num_categories).unsqueeze(1)).reshape(-1)
    losses = train_toy("rb-reinforce-ma", 3, config, seed=0)
    initial, optimum = float(losses[0].mean()), float(table.min())
    # every run at least halves its gap to the optimum within 200 steps of 3 evaluations
    assert float(losses[-1].max()) - optimum < 0.5 * (initial - optimum)


@pytest.mark.parametrize(("name", "k"), [("reinforce-loo", "auto"), ("rb-gumbel-soft", 1)])
def test_vae_training_beats_independent_pixels(name, k, digits):
    task = DigitVAETask(config=VAEConfig(num_categories=16, hidden=64), split=digits)
    config = TrainConfig(estimator=name, steps=500, eval_every=500, learning_rate=3e-3, seed=0, k=k)
    _, history = fit(task, config)
    # independent Bernoulli pixels score ~24.3 nats; a 16-category VAE must beat them by 2.5 nats
    # (seeds 0-3 reach 19.6-20.6 nats after 500 steps with either estimator)
    assert history[-1]["test_nll"] < task.trivial_baseline() - 2.5
    assert history[-1]["test_neg_elbo"] < history[0]["test_neg_elbo"] - 10.0


def test_attention_training_reduces_the_expected_error():
    task = AttentionTask(config=AttentionConfig(canvas_size=14, clutter=0.05), seed=0)
    _, history = fit(
        task,
        TrainConfig(
            estimator="rb-reinforce-ma", steps=150, eval_every=150, batch_size=32, learning_rate=3e-3
        ),
    )
    # start: uniform attention with a grey template; the trained locator and template cut the error by 15%
    assert history[-1]["test_expected_sq_error"] < 0.85 * history[0]["test_expected_sq_error"]


class _Crash(RuntimeError):
    pass


class _CrashingTask(DigitVAETask):
    crash_at = 0

    def batch_loss(self, model, estimator, index, num_samples, generator):
        self.crash_at -= 1
        if self.crash_at == 0:
            raise _Crash
        return super().batch_loss(model, estimator, index, num_samples, generator)


RESUME_CONFIG = TrainConfig(estimator="rb-reinforce-ma", steps=30, eval_every=10, checkpoint_every=10, k=1)
RESUME_VAE = VAEConfig(num_categories=8, hidden=16)


@pytest.fixture(scope="module")
def reference_run(digits):
    """An uninterrupted 30-step run, the reference for resumed and extended ones."""
    return fit(DigitVAETask(config=RESUME_VAE, split=digits), RESUME_CONFIG)


def _same_run(run, reference):
    (model, history), (reference_model, reference_history) = run, reference
    for a, b in zip(model.state_dict().values(), reference_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    metrics = ("step", "evaluations", "test_neg_elbo", "test_nll")
    assert [[row[m] for m in metrics] for row in history] == [
        [row[m] for m in metrics] for row in reference_history
    ]


def test_training_resumes_from_its_checkpoint_exactly(tmp_path, digits, reference_run):
    crashing = _CrashingTask(config=RESUME_VAE, split=digits)
    crashing.crash_at = 25  # dies during step 25; the checkpoint of step 20 survives
    path = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        fit(crashing, RESUME_CONFIG, checkpoint=path)
    _same_run(
        fit(DigitVAETask(config=RESUME_VAE, split=digits), RESUME_CONFIG, checkpoint=path), reference_run
    )
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit(DigitVAETask(config=RESUME_VAE, split=digits), replace(RESUME_CONFIG, learning_rate=0.1), path)


def test_extending_steps_of_a_finished_run_equals_the_longer_run(tmp_path, digits, reference_run):
    # 25 steps (an end-of-run evaluation at step 25, off the every-10 schedule), then extended to 30
    path = tmp_path / "run.safetensors"
    _, short_history = fit(
        DigitVAETask(config=RESUME_VAE, split=digits), replace(RESUME_CONFIG, steps=25), checkpoint=path
    )
    assert [row["step"] for row in short_history] == [0, 10, 20, 25]
    extended = fit(DigitVAETask(config=RESUME_VAE, split=digits), RESUME_CONFIG, checkpoint=path)
    _same_run(extended, reference_run)
    with pytest.raises(InputError, match="further along"):  # shrinking a finished run is refused
        fit(DigitVAETask(config=RESUME_VAE, split=digits), replace(RESUME_CONFIG, steps=20), checkpoint=path)


def test_training_leaves_the_global_rng_untouched(digits):
    before = torch.random.get_rng_state()
    fit(DigitVAETask(config=RESUME_VAE, split=digits), replace(RESUME_CONFIG, steps=2, eval_every=2))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_bad_training_config_is_rejected(digits):
    with pytest.raises(InputError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(InputError, match="seed"):
        TrainConfig(seed=-1)
    with pytest.raises(InputError, match="k must"):
        TrainConfig(k="all")
    with pytest.raises(InputError, match="unknown estimator"):
        fit(DigitVAETask(split=digits), TrainConfig(estimator="gumbel"))


def test_locator_scores_every_position():
    model = Locator(AttentionConfig(canvas_size=16))
    assert model(torch.zeros(3, 16, 16)).shape == (3, 81)
