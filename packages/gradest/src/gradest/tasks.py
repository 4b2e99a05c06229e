"""Learning tasks for the estimator comparison: each pairs a model with data and an exact evaluation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from gradest.attention import AttentionConfig, Locator
from gradest.data import DigitSplit, load_binarized_digits, make_canvases
from gradest.estimators import Estimate, Estimator
from gradest.vae import CategoricalVAE, VAEConfig, independent_bernoulli_nll

__all__ = ["AttentionTask", "DigitVAETask", "Task"]


class Task(ABC):
    """What `gradest.train.fit` needs: a model factory, a training loss and an exact evaluation."""

    name = "task"
    train_size = 0
    device = torch.device("cpu")

    def to(self, device: torch.device) -> Task:
        """Move the task's tensors to `device` (returns self)."""
        self.device = torch.device(device)
        for key, value in vars(self).items():
            if isinstance(value, Tensor):
                setattr(self, key, value.to(self.device))
            elif isinstance(value, tuple) and value and all(isinstance(v, Tensor) for v in value):
                setattr(self, key, tuple(v.to(self.device) for v in value))
            elif isinstance(value, DigitSplit):
                for name, tensor in vars(value).items():
                    setattr(value, name, tensor.to(self.device))
        return self

    @abstractmethod
    def make_model(self) -> nn.Module:
        """A freshly initialised model (`gradest.train.fit` builds it inside `torch.random.fork_rng`, seeded)."""

    @abstractmethod
    def batch_loss(
        self,
        model: nn.Module,
        estimator: Estimator,
        index: Tensor,
        num_samples: int,
        generator: torch.Generator,
    ) -> tuple[Tensor, Estimate]:
        """The surrogate loss of the minibatch `index` (its gradient is the estimate) and the estimate."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Exact evaluation metrics of `model` on held-out data."""


@dataclass
class DigitVAETask(Task):
    """Categorical VAE on binarised sklearn digits; evaluation: exact test -ELBO and -log p(x) (nats)."""

    config: VAEConfig = field(default_factory=VAEConfig)
    split: DigitSplit | None = None
    name = "digits-vae"

    def __post_init__(self) -> None:
        self.split = self.split or load_binarized_digits()
        self.train_size = self.split.train.shape[0]

    def make_model(self) -> nn.Module:
        return CategoricalVAE(self.config)

    def batch_loss(self, model, estimator, index, num_samples, generator):
        return model.loss(self.split.train[index.to(self.device)], estimator, num_samples, generator)

    def evaluate(self, model) -> dict[str, float]:
        neg_elbo, nll = model.exact_bounds(self.split.test)
        return {"test_neg_elbo": neg_elbo, "test_nll": nll}

    def trivial_baseline(self) -> float:
        """Test -log p(x) of independent Bernoulli pixels (the model a VAE must beat)."""
        return independent_bernoulli_nll(self.split.train, self.split.test)


@dataclass
class AttentionTask(Task):
    """Locate a digit on a canvas by hard attention over ``(size - 7)^2`` positions."""

    config: AttentionConfig = field(default_factory=AttentionConfig)
    seed: int = 0
    name = "hard-attention"

    def __post_init__(self) -> None:
        split = load_binarized_digits(seed=self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.train = make_canvases(split.train, self.config.canvas_size, generator, self.config.clutter)
        self.test = make_canvases(split.test, self.config.canvas_size, generator, self.config.clutter)
        self.train_size = self.train[0].shape[0]

    def make_model(self) -> nn.Module:
        return Locator(self.config)

    def batch_loss(self, model, estimator, index, num_samples, generator):
        canvases, glyphs, _ = self.train
        index = index.to(self.device)
        return model.loss(canvases[index], glyphs[index], estimator, num_samples, generator)

    def evaluate(self, model) -> dict[str, float]:
        expected_error, accuracy = model.evaluate(*self.test)
        return {"test_expected_sq_error": expected_error, "test_accuracy": accuracy}
