"""Tasks and training: models checked against brute force, learning beats trivial baselines, resumption."""

from __future__ import annotations

import math

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


@pytest.mark.parametrize("name", ["reinforce-loo", "rb-gumbel-soft"])
def test_vae_training_beats_independent_pixels(name, digits):
    task = DigitVAETask(config=VAEConfig(num_categories=16, hidden=64), split=digits)
    _, history = fit(task, TrainConfig(estimator=name, steps=500, eval_every=500, learning_rate=3e-3, seed=0))
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


def test_training_resumes_from_its_checkpoint_exactly(tmp_path, digits):
    config = TrainConfig(estimator="rb-reinforce-ma", steps=30, eval_every=10, checkpoint_every=10, k=1)
    vae = VAEConfig(num_categories=8, hidden=16)
    reference, reference_history = fit(DigitVAETask(config=vae, split=digits), config)
    crashing = _CrashingTask(config=vae, split=digits)
    crashing.crash_at = 25  # dies during step 25; the checkpoint of step 20 survives
    path = tmp_path / "run.safetensors"
    with pytest.raises(_Crash):
        fit(crashing, config, checkpoint=path)
    resumed, history = fit(DigitVAETask(config=vae, split=digits), config, checkpoint=path)
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert [row["test_neg_elbo"] for row in history] == [row["test_neg_elbo"] for row in reference_history]
    with pytest.raises(CheckpointMismatchError, match="learning_rate"):
        fit(
            DigitVAETask(config=vae, split=digits),
            TrainConfig(**{**config.__dict__, "learning_rate": 0.1}),
            path,
        )


def test_bad_training_config_is_rejected(digits):
    with pytest.raises(InputError, match="steps"):
        fit(DigitVAETask(split=digits), TrainConfig(steps=0))
    with pytest.raises(InputError, match="unknown estimator"):
        fit(DigitVAETask(split=digits), TrainConfig(estimator="gumbel"))


def test_locator_scores_every_position():
    model = Locator(AttentionConfig(canvas_size=16))
    assert model(torch.zeros(3, 16, 16)).shape == (3, 81)
