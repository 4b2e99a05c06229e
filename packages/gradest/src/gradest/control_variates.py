"""REBAR (Tucker et al. 2017) and RELAX (Grathwohl et al. 2018): REINFORCE with a learned control variate.

With ``z = log q + G`` (Gumbel), ``b = argmax z`` and ``z~ ~ p(z | b)`` (a conditional Gumbel draw,
reparameterised), the single-sample estimator of the logits gradient is

    g = [f(b) - c(z~)] grad log q(b) + grad c(z) - grad c(z~) + grad_direct f(b),

unbiased for any differentiable c. REBAR: ``c(z) = eta f(softmax(z / lambda))``; RELAX adds a small
network: ``c(z) = eta f(softmax(z / lambda)) + r_rho(softmax(z / lambda))``. The control-variate
parameters (eta, lambda, rho) are tuned online by gradient descent on ``E ||g||^2`` (the variance, since the
mean does not depend on them), computed by differentiating g itself (``create_graph``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from core.errors import InputError
from gradest.categorical import conditional_gumbel
from gradest.estimators import SampleEstimator, SampleTerms, _one_hot, evaluate_objective

__all__ = ["ControlVariateConfig", "Rebar", "Relax"]

_LOG_MIN_TEMPERATURE, _LOG_MAX_TEMPERATURE = math.log(0.01), math.log(10.0)


@dataclass(frozen=True)
class ControlVariateConfig:
    """Hyper-parameters of REBAR/RELAX (defaults: Tucker et al.'s initial eta = 1, lambda = 0.5).

    Attributes:
        temperature: initial relaxation temperature lambda.
        eta: initial scale of the relaxed-objective control variate.
        learning_rate: Adam step size for the control-variate parameters.
        hidden: width of RELAX's network r_rho (unused by REBAR).
        tune: tune the control variate online to reduce the variance.
    """

    temperature: float = 0.5
    eta: float = 1.0
    learning_rate: float = 1e-2
    hidden: int = 32
    tune: bool = True


class _ControlVariateEstimator(SampleEstimator):
    evaluations_per_sample = 3  # f(b), f(sigma(z)), f(sigma(z~))
    uses_noise = True
    use_network = False

    def __init__(self, config: ControlVariateConfig | None = None) -> None:
        config = config or ControlVariateConfig()
        if not config.temperature > 0:
            raise InputError("the control-variate temperature must be positive", item=config.temperature)
        self.config = config
        self.tune = config.tune
        self.log_temperature = torch.tensor(math.log(config.temperature), requires_grad=True)
        self.eta = torch.tensor(float(config.eta), requires_grad=True)
        self.network: nn.Module | None = None
        self._optimizer: torch.optim.Optimizer | None = None

    def parameters(self) -> list[Tensor]:
        """The control-variate parameters (eta, log lambda and RELAX's network)."""
        params = [self.eta, self.log_temperature]
        if self.network is not None:
            params += list(self.network.parameters())
        return params

    def state_dict(self) -> dict:
        return {
            "eta": self.eta.detach().clone(),
            "log_temperature": self.log_temperature.detach().clone(),
            "network": None if self.network is None else self.network.state_dict(),
            "num_categories": None if self.network is None else self.network[0].in_features,
            "optimizer": None if self._optimizer is None else self._optimizer.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.eta = state["eta"].detach().clone().requires_grad_(True)
        self.log_temperature = state["log_temperature"].detach().clone().requires_grad_(True)
        if state["network"] is not None:
            self._build_network(int(state["num_categories"]))
            self.network.load_state_dict(state["network"])
        self._optimizer = torch.optim.Adam(self.parameters(), lr=self.config.learning_rate)
        if state["optimizer"] is not None:
            self._optimizer.load_state_dict(state["optimizer"])

    def _build_network(self, num_categories: int) -> None:
        hidden = self.config.hidden
        self.network = nn.Sequential(nn.Linear(num_categories, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        nn.init.zeros_(self.network[2].weight)
        nn.init.zeros_(self.network[2].bias)

    def _prepare(self, logits: Tensor) -> None:
        num_categories = logits.shape[-1]
        if self.use_network and self.network is None:
            self._build_network(num_categories)
            self._optimizer = None
        device, dtype = logits.device, logits.dtype
        if self.eta.device != device or self.eta.dtype != dtype:
            self.eta = self.eta.detach().to(device, dtype).requires_grad_()
            self.log_temperature = self.log_temperature.detach().to(device, dtype).requires_grad_()
            self._optimizer = None
        if self.network is not None:
            self.network.to(device, dtype)
        if self._optimizer is None:
            self._optimizer = torch.optim.Adam(self.parameters(), lr=self.config.learning_rate)

    def _control(self, objective, perturbed: Tensor) -> Tensor:
        temperature = self.log_temperature.clamp(_LOG_MIN_TEMPERATURE, _LOG_MAX_TEMPERATURE).exp()
        relaxed = torch.softmax(perturbed / temperature, -1)
        value = self.eta * evaluate_objective(objective, relaxed)
        if self.network is not None:
            value = value + self.network(relaxed).squeeze(-1)
        return value

    def per_sample(self, logits, objective, categories, noise=None, generator=None):
        self._prepare(logits)
        log_probs = torch.log_softmax(logits.detach(), -1)
        if noise is None:
            noise = conditional_gumbel(log_probs, categories, generator) - log_probs
        values = evaluate_objective(objective, _one_hot(categories, logits))
        # A per-draw copy of the logits: the pathwise terms are differentiated per draw in one call.
        proxy = logits.detach().expand(*categories.shape, logits.shape[-1]).clone().requires_grad_(True)
        proxy_log_probs = torch.log_softmax(proxy, -1)
        with torch.enable_grad():
            c_z = self._control(objective, proxy_log_probs + noise)
            c_tilde = self._control(objective, conditional_gumbel(proxy_log_probs, categories, generator))
            (pathwise,) = torch.autograd.grad((c_z - c_tilde).sum(), proxy, create_graph=True)
        score = _one_hot(categories, logits) - torch.softmax(logits.detach(), -1)  # grad of log q(b)
        logit_grad = (values.detach() - c_tilde).unsqueeze(-1) * score + pathwise
        linear = (logits.unsqueeze(0) * logit_grad.detach()).sum(-1)
        surrogate = values + linear - linear.detach()
        return SampleTerms(surrogate=surrogate, value=values.detach(), logit_grad=logit_grad)

    def after_estimate(self, logits: Tensor, logit_grad: Tensor | None) -> None:
        if not self.tune or logit_grad is None or self._optimizer is None:
            return
        variance = (logit_grad**2).sum()
        params = self.parameters()
        grads = torch.autograd.grad(variance, params, allow_unused=True)
        if not all(grad is None or bool(torch.isfinite(grad).all()) for grad in grads):
            return  # a numerically failed variance gradient: skip this tuning step, keep the parameters
        for param, grad in zip(params, grads):
            param.grad = None if grad is None else grad.detach()
        self._optimizer.step()
        self._optimizer.zero_grad(set_to_none=True)


class Rebar(_ControlVariateEstimator):
    """REBAR: REINFORCE with the relaxed objective ``eta f(softmax(z / lambda))`` as control variate."""

    name = "rebar"


class Relax(_ControlVariateEstimator):
    """RELAX: REBAR's control variate plus a learned network ``r_rho(softmax(z / lambda))``."""

    name = "relax"
    use_network = True
