"""The VQA model of Anderson et al. (2018, sec. 3.3), after Teney et al. (2018).

The question (first 14 tokens) goes through word embeddings and a GRU (final state q). Each region v_i
gets a weight a_i = softmax_i(w^T f_a([v_i; q])) over the real regions; the attended feature
v = sum_i a_i v_i and q pass through gated-tanh layers and are fused by the Hadamard product
h = f_q(q) * f_v(v); the answer scores s = sigmoid(W_o f_o(h)) are trained against soft scores with
binary cross-entropy. Gated tanh: f(x) = tanh(W x + b) * sigmoid(W' x + b').
"""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.updown.captioner import masked_softmax
from vision_attention.updown.config import VQAConfig
from vision_attention.updown.text import PAD

__all__ = ["GatedTanh", "TopDownVQA"]


class GatedTanh(nn.Module):
    """``tanh(W x + b) * sigmoid(W' x + b')``: ``(..., inputs) -> (..., outputs)``."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.value = nn.Linear(inputs, outputs)
        self.gate = nn.Linear(inputs, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.value(x)) * torch.sigmoid(self.gate(x))


class TopDownVQA(nn.Module):
    """``(features (n, k, d), mask (n, k), questions (n, L) ids) -> answer logits (n, answers)``."""

    def __init__(self, config: VQAConfig) -> None:
        super().__init__()
        c = config
        self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_size, padding_idx=PAD)
        self.gru = nn.GRU(c.embed_size, c.hidden_size, batch_first=True)
        self.attend = GatedTanh(c.feature_size + c.hidden_size, c.hidden_size)
        self.attend_score = nn.Linear(c.hidden_size, 1)
        self.question = GatedTanh(c.hidden_size, c.hidden_size)
        self.image = GatedTanh(c.feature_size, c.hidden_size)
        self.joint = GatedTanh(c.hidden_size, c.hidden_size)
        self.classifier = nn.Linear(c.hidden_size, c.answers)

    def encode_question(self, questions: torch.Tensor) -> torch.Tensor:
        """``(n, hidden)``: the GRU state after the last real token (at most `question_length`)."""
        questions = questions[:, : self.config.question_length]
        lengths = (questions != PAD).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embed(questions), lengths, batch_first=True, enforce_sorted=False
        )
        return self.gru(packed)[1][0]

    def attention(self, features: torch.Tensor, mask: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """``(n, k)`` weights over the real regions."""
        joint = torch.cat([features, q[:, None].expand(-1, features.shape[1], -1)], dim=2)
        return masked_softmax(self.attend_score(self.attend(joint)).squeeze(-1), mask)

    def forward(self, features: torch.Tensor, mask: torch.Tensor, questions: torch.Tensor) -> torch.Tensor:
        q = self.encode_question(questions)
        alpha = self.attention(features, mask, q)
        attended = (alpha[..., None] * features).sum(1)
        return self.classifier(self.joint(self.question(q) * self.image(attended)))
