"""The SQOOP models: tree and chain neural module networks (NMN) and a generic FiLM network.

All share the stem (a ``cell x cell`` convolution with stride ``cell`` and a 1x1 one: a feature vector per grid cell)
and append x, y coordinate maps (CoordConv-style) to every module's input, so that the relations are
computable. A *module* takes two feature maps and a word, ``m(a, b, w) = a + ReLU(FiLM_w(conv(ReLU(conv([a; b; xy])))))``
with the FiLM scale and shift predicted from the word embedding; one module's weights are shared by every
word (the paper's "Find" parametrisation; the word decides what it does). The classifier is a 1x1 convolution,
a global max pool and a linear layer onto {no, yes}.

- `TreeNMN`: ``Relate[R](Find[X](stem, stem), Find[Y](stem, stem))``, the layout of the question.
- `ChainNMN`: ``m(m(m(stem, stem, X), stem, R), stem, Y)``, the same modules in a chain.
- `FiLMNet`: three FiLM residual blocks on the stem, each conditioned on the whole question (the three
  token embeddings concatenated), the generic model of the paper's comparison.
- `MACNet`: a MAC-style network (Hudson & Manning 2018): a BiLSTM over the 3 tokens, then ``steps`` MAC cells,
  each a control unit (attention over the 3 contextual words), a read unit (attention over the grid cells'
  features, guided by the memory and the control) and a write unit (new memory from the read vector and the
  old memory); the answer from the question and the last memory.
- `AttentionNMN`: the tree layout, but each of its 3 modules takes a soft attention over the 3 question words
  as its word (learned weights, one softmax per module: every SQOOP question has the same form), the paper's
  "Attention N2NMN" way of inducing which word each module reads.
- `LayoutNMN`: layout induction; the answer distribution is ``p(tree) p_tree(y) + (1 - p(tree)) p_chain(y)``
  with ``p(tree) = sigmoid(theta)`` learned, the tree ``Relate[R](Find[X], Find[Y])`` and the chain
  ``Find[Y](Find[R](Find[X]))`` sharing their Find module, stem and classifier. Its forward returns
  log-probabilities (cross-entropy on them is the mixture's likelihood).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vision_attention.sqoop.config import SqoopConfig
from vision_attention.sqoop.render import TOKENS

__all__ = [
    "AttentionNMN",
    "ChainNMN",
    "FiLMNet",
    "LayoutNMN",
    "MACNet",
    "Module",
    "TreeNMN",
    "make_sqoop_model",
]


def _coords(h: torch.Tensor) -> torch.Tensor:
    n, _, rows, cols = h.shape
    y = torch.linspace(-1, 1, rows, device=h.device).view(1, 1, rows, 1).expand(n, 1, rows, cols)
    x = torch.linspace(-1, 1, cols, device=h.device).view(1, 1, 1, cols).expand(n, 1, rows, cols)
    return torch.cat([x, y], 1)


class Stem(nn.Module):
    def __init__(self, config: SqoopConfig) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, config.width, config.cell, stride=config.cell),
            nn.ReLU(),
            nn.Conv2d(config.width, config.width, 1),
            nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


class Module(nn.Module):
    """``m(a, b, w) = a + ReLU(FiLM_w(conv(ReLU(conv([a; b; xy])))))``, FiLM from a word vector ``w``."""

    def __init__(self, width: int, embedding: int, inputs: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs * width + 2, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.film = nn.Linear(embedding, 2 * width)

    def forward(self, a: torch.Tensor, b: torch.Tensor | None, word: torch.Tensor) -> torch.Tensor:
        x = torch.cat([a, _coords(a)] if b is None else [a, b, _coords(a)], 1)
        z = self.conv2(torch.relu(self.conv1(x)))
        gamma, beta = self.film(word).chunk(2, dim=1)
        z = (1 + gamma[:, :, None, None]) * z + beta[:, :, None, None]
        return a + torch.relu(z)


class Classifier(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.project = nn.Conv2d(width + 2, width, 1)
        self.out = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 2))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        z = torch.relu(self.project(torch.cat([h, _coords(h)], 1)))
        return self.out(z.amax(dim=(2, 3)))


class _Base(nn.Module):
    def __init__(self, config: SqoopConfig) -> None:
        super().__init__()
        self.config = config
        self.stem = Stem(config)
        self.words = nn.Embedding(TOKENS, config.embedding)
        self.classifier = Classifier(config.width)


class TreeNMN(_Base):
    """``Relate[R](Find[X](s, s), Find[Y](s, s))``: the question's own layout."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.find = Module(config.width, config.embedding)
        self.relate = Module(config.width, config.embedding)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        x, r, y = (self.words(tokens[:, k]) for k in range(3))
        return self.classifier(self.relate(self.find(s, s, x), self.find(s, s, y), r))


class ChainNMN(_Base):
    """``m(m(m(s, s, X), s, R), s, Y)``: the same module applied along the question."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.module = Module(config.width, config.embedding)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        h = s
        for k in range(3):
            h = self.module(h, s, self.words(tokens[:, k]))
        return self.classifier(h)


class FiLMNet(_Base):
    """Three FiLM residual blocks, each conditioned on the whole question ``[e(X); e(R); e(Y)]``."""

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.question = nn.Sequential(nn.Linear(3 * config.embedding, config.embedding), nn.ReLU())
        self.blocks = nn.ModuleList(Module(config.width, config.embedding, inputs=1) for _ in range(3))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        h = self.stem(images)
        q = self.question(self.words(tokens).flatten(1))
        for block in self.blocks:
            h = block(h, None, q)
        return self.classifier(h)


class MACNet(_Base):
    """MAC-style: control (attention over words), read (attention over cells), write units, ``steps`` times.

    After a forward pass, ``last_attention`` holds ``control`` ``(n, steps, 3)`` and ``read``
    ``(n, steps, cells)``, each row a softmax (sums to 1).
    """

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        d, e = config.width, config.embedding
        self.encoder = nn.LSTM(e, d // 2 if d % 2 == 0 else d, batch_first=True, bidirectional=True)
        hidden = 2 * (d // 2 if d % 2 == 0 else d)
        self.words_out = nn.Linear(hidden, d)
        self.question = nn.Linear(hidden, d)
        self.knowledge = nn.Conv2d(d + 2, d, 1)
        self.step_question = nn.ModuleList(nn.Linear(d, d) for _ in range(config.steps))
        self.control_in = nn.Linear(2 * d, d)
        self.control_attend = nn.Linear(d, 1)
        self.read_memory = nn.Linear(d, d)
        self.read_knowledge = nn.Linear(d, d)
        self.read_combine = nn.Linear(2 * d, d)
        self.read_attend = nn.Linear(d, 1)
        self.write = nn.Linear(2 * d, d)
        self.control0 = nn.Parameter(torch.zeros(d))
        self.memory0 = nn.Parameter(torch.zeros(d))
        self.answer = nn.Sequential(nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, 2))
        self.last_attention: dict[str, torch.Tensor] = {}

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        k = self.knowledge(torch.cat([s, _coords(s)], 1)).flatten(2).transpose(1, 2)  # (n, cells, d)
        states, (h, _) = self.encoder(self.words(tokens))
        cw = self.words_out(states)  # (n, 3, d)
        q = self.question(torch.cat([h[0], h[1]], 1))
        n = images.shape[0]
        c, m = self.control0.expand(n, -1), self.memory0.expand(n, -1)
        controls, reads = [], []
        for step in range(self.config.steps):
            cq = self.control_in(torch.cat([c, self.step_question[step](torch.tanh(q))], 1))
            a = torch.softmax(self.control_attend(cq[:, None] * cw).squeeze(2), 1)  # (n, 3)
            c = (a[:, :, None] * cw).sum(1)
            interaction = self.read_memory(m)[:, None] * self.read_knowledge(k)
            i2 = self.read_combine(torch.cat([interaction, k], 2))
            r = torch.softmax(self.read_attend(c[:, None] * i2).squeeze(2), 1)  # (n, cells)
            m = self.write(torch.cat([(r[:, :, None] * k).sum(1), m], 1))
            controls.append(a)
            reads.append(r)
        self.last_attention = {"control": torch.stack(controls, 1), "read": torch.stack(reads, 1)}
        return self.answer(torch.cat([q, m], 1))


class AttentionNMN(TreeNMN):
    """The tree layout; module k's word is ``softmax(word_logits[k]) @ [e(X), e(R), e(Y)]`` (k: Find, Find, Relate).

    ``word_attention()`` is the ``(3, 3)`` attention (rows: Find 1, Find 2, Relate; columns: X, R, Y). The
    correct choice is the permutation X, Y, R; uniform at initialisation.
    """

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.word_logits = nn.Parameter(torch.zeros(3, 3))

    def word_attention(self) -> torch.Tensor:
        return torch.softmax(self.word_logits, 1)

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        words = self.word_attention() @ self.words(tokens)  # (n, 3 modules, embedding)
        a, b, r = words.unbind(1)
        return self.classifier(self.relate(self.find(s, s, a), self.find(s, s, b), r))


class LayoutNMN(TreeNMN):
    """``log(p * softmax(tree) + (1 - p) * softmax(chain))``, ``p = p(tree) = sigmoid(tree_logit)`` learned.

    The tree is `TreeNMN`'s (same parameter names: a TreeNMN state dict loads into it); the chain applies the
    same Find module along X, R, Y (as `ChainNMN`).
    """

    def __init__(self, config: SqoopConfig) -> None:
        super().__init__(config)
        self.tree_logit = nn.Parameter(torch.tensor(float(config.tree_logit)))

    def p_tree(self) -> float:
        return float(torch.sigmoid(self.tree_logit.detach()))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        s = self.stem(images)
        x, r, y = (self.words(tokens[:, k]) for k in range(3))
        tree = self.classifier(self.relate(self.find(s, s, x), self.find(s, s, y), r))
        h = s
        for word in (x, r, y):
            h = self.find(h, s, word)
        chain = self.classifier(h)
        mixed = torch.stack(
            [
                F.logsigmoid(self.tree_logit) + F.log_softmax(tree, 1),
                F.logsigmoid(-self.tree_logit) + F.log_softmax(chain, 1),
            ]
        )
        return torch.logsumexp(mixed, 0)


def make_sqoop_model(config: SqoopConfig) -> nn.Module:
    """The model `config.model` names."""
    models = {
        "tree": TreeNMN,
        "chain": ChainNMN,
        "film": FiLMNet,
        "mac": MACNet,
        "attention": AttentionNMN,
        "layout": LayoutNMN,
    }
    return models[config.model](config)
