"""The top-down captioner of Anderson et al. (2018, sec. 3.2) over a set of region features.

Per step t: the attention LSTM reads [h2_{t-1}, mean of the regions, embedding of the previous word]; the
attention weights a_i = softmax_i(w^T tanh(W_v v_i + W_h h1_t)) over the real regions (padding masked);
the language LSTM reads [sum_i a_i v_i, h1_t] and its state gives the next word's logits. Decoding:
`greedy`, `beam_search` (sum of log-probabilities, no length normalisation, so beam 1 is greedy) and
`sample` (for self-critical training, Rennie et al. 2017).
"""

from __future__ import annotations

import torch
from torch import nn

from vision_attention.updown.config import CaptionerConfig
from vision_attention.updown.text import BOS, EOS, PAD

__all__ = ["TopDownCaptioner", "masked_softmax"]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis of ``scores (n, k)`` where ``mask (n, k)`` is True; 0 elsewhere."""
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)


class TopDownCaptioner(nn.Module):
    """``features (n, k, d)``, ``mask (n, k)`` bool -> captions; see the module docstring."""

    def __init__(self, config: CaptionerConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_size, padding_idx=PAD)
        self.attention_lstm = nn.LSTMCell(c.hidden_size + c.feature_size + c.embed_size, c.hidden_size)
        self.language_lstm = nn.LSTMCell(c.feature_size + c.hidden_size, c.hidden_size)
        self.attend_features = nn.Linear(c.feature_size, c.attention_size)
        self.attend_hidden = nn.Linear(c.hidden_size, c.attention_size)
        self.attend_score = nn.Linear(c.attention_size, 1)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden_size, c.vocab_size)

    def _start(self, features: torch.Tensor, mask: torch.Tensor):
        n = len(features)
        zeros = features.new_zeros(n, self.config.hidden_size)
        weights = mask.float() / mask.float().sum(1, keepdim=True).clamp(min=1)
        mean = (features * weights[..., None]).sum(1)
        return (zeros, zeros, zeros, zeros), mean, self.attend_features(features)

    def attention(self, projected: torch.Tensor, mask: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        """``(n, k)`` weights: softmax over the real regions of w^T tanh(W_v v_i + W_h h)."""
        scores = self.attend_score(torch.tanh(projected + self.attend_hidden(hidden)[:, None])).squeeze(-1)
        return masked_softmax(scores, mask)

    def step(self, words, state, features, mask, mean, projected):
        """One decoding step: ``(logits (n, V), new state, attention weights (n, k))``."""
        h1, c1, h2, c2 = state
        h1, c1 = self.attention_lstm(torch.cat([h2, mean, self.embed(words)], 1), (h1, c1))
        alpha = self.attention(projected, mask, h1)
        attended = (alpha[..., None] * features).sum(1)
        h2, c2 = self.language_lstm(torch.cat([attended, h1], 1), (h2, c2))
        return self.out(self.dropout(h2)), (h1, c1, h2, c2), alpha

    def forward(self, features: torch.Tensor, mask: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``tokens (n, T)`` start with <bos>; returns logits ``(n, T - 1, V)`` for tokens[:, 1:]."""
        state, mean, projected = self._start(features, mask)
        logits = []
        for t in range(tokens.shape[1] - 1):
            step_logits, state, _ = self.step(tokens[:, t], state, features, mask, mean, projected)
            logits.append(step_logits)
        return torch.stack(logits, 1)

    def _decode(self, features, mask, choose):
        n = len(features)
        state, mean, projected = self._start(features, mask)
        words = torch.full((n,), BOS, dtype=torch.long, device=features.device)
        done = torch.zeros(n, dtype=torch.bool, device=features.device)
        out, logps, alphas = [], [], []
        for t in range(self.config.max_length + 1):
            logits, state, alpha = self.step(words, state, features, mask, mean, projected)
            logp = torch.log_softmax(logits, -1)
            # the step after max_length words may only end the caption (as in `beam_search`)
            words = choose(logp) if t < self.config.max_length else torch.full_like(words, EOS)
            words = torch.where(done, torch.full_like(words, PAD), words)
            logps.append(
                torch.where(
                    done,
                    torch.zeros_like(words, dtype=logp.dtype),
                    logp.gather(1, words.clamp(min=0)[:, None]).squeeze(1),
                )
            )
            out.append(words)
            alphas.append(alpha)
            done = done | (words == EOS)
            if bool(done.all()):
                break
        return torch.stack(out, 1), torch.stack(logps, 1), torch.stack(alphas, 1)

    @torch.no_grad()
    def greedy(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(n, <= max_length + 1)`` word ids, arg-max at each step, ending in <eos> (<pad> after it)."""
        return self._decode(features, mask, lambda logp: logp.argmax(-1))[0]

    @torch.no_grad()
    def attention_maps(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy captions and the attention weights of every step: ``(n, T)`` ids, ``(n, T, k)`` weights."""
        words, _, alphas = self._decode(features, mask, lambda logp: logp.argmax(-1))
        return words, alphas

    def sample(
        self, features: torch.Tensor, mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampled captions ``(n, T)`` and their summed log-probabilities ``(n,)`` (with gradient)."""
        words, logps, _ = self._decode(
            features, mask, lambda logp: torch.multinomial(logp.exp(), 1, generator=generator).squeeze(1)
        )
        return words, logps.sum(1)

    @torch.no_grad()
    def beam_search(self, features: torch.Tensor, mask: torch.Tensor, beam: int = 3) -> list[list[int]]:
        """The highest-scoring caption (sum of log-probabilities, ending in <eos>) of each image."""
        results = []
        vocab = self.config.vocab_size
        for i in range(len(features)):
            f, m = features[i : i + 1], mask[i : i + 1]
            state, mean, projected = self._start(f, m)
            words = torch.tensor([BOS], device=f.device)
            sequences: list[list[int]] = [[]]
            scores = torch.zeros(1, device=f.device)
            finished: list[tuple[float, list[int]]] = []
            for t in range(self.config.max_length + 1):
                alive = len(sequences)
                expand = lambda x, alive=alive: x.expand(alive, *x.shape[1:])  # noqa: E731
                logits, state, _ = self.step(
                    words, state, expand(f), expand(m), expand(mean), expand(projected)
                )
                logp = torch.log_softmax(logits, -1)
                if t == self.config.max_length:  # the last step may only end the caption
                    logp = torch.full_like(logp, float("-inf")).index_fill(1, torch.tensor([EOS]), 0.0) + logp
                total = (scores[:, None] + logp).view(-1)
                top = total.topk(min(beam, total.numel()))
                keep_rows, keep_words, keep_scores = [], [], []
                for score, index in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                    row, word = divmod(index, vocab)
                    if word == EOS:
                        finished.append((score, sequences[row] + [EOS]))
                    else:
                        keep_rows.append(row), keep_words.append(word), keep_scores.append(score)
                best_done = max((s for s, _ in finished), default=float("-inf"))
                if not keep_rows or best_done >= max(keep_scores):
                    break
                rows = torch.tensor(keep_rows, device=f.device)
                state = tuple(s[rows] for s in state)
                sequences = [sequences[r] + [w] for r, w in zip(keep_rows, keep_words, strict=True)]
                words = torch.tensor(keep_words, device=f.device)
                scores = torch.tensor(keep_scores, device=f.device)
            results.append(max(finished, key=lambda item: item[0])[1])
        return results
