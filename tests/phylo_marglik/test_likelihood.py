"""Felsenstein pruning against brute-force summation over every ancestral state assignment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.linalg import expm

from phylo_marglik.alignment import Alignment, compress_patterns, read_alignment
from phylo_marglik.likelihood import TreeLikelihood
from phylo_marglik.substitution import GTR, JC69
from phylo_marglik.tree import parse_newick

STATES = "ACGT"


def _brute_force(topology, lengths, sequences, q, freqs, rates, weights):
    """log L by summing over all 4^(internal nodes) ancestral assignments; P(t) = expm(Q r t)."""
    n = topology.n_taxa
    internal = list(range(n, topology.n_nodes))
    edges = [(int(topology.parent[c]), c) for c in range(topology.n_branches)]
    total = 0.0
    for site in range(len(sequences[0])):
        allowed = [
            [STATES.index(b) for b in ("ACGT" if seq[site] in "-?N" else seq[site])] for seq in sequences
        ]
        site_lik = 0.0
        for rate, weight in zip(rates, weights):
            mats = {c: expm(q * rate * lengths[c]) for _, c in edges}
            for tips in itertools.product(*allowed):
                for anc in itertools.product(range(4), repeat=len(internal)):
                    state = dict(zip(internal, anc))
                    state.update(dict(enumerate(tips)))
                    prob = freqs[state[topology.root]]
                    for parent, child in edges:
                        prob *= mats[child][state[parent], state[child]]
                    site_lik += weight * prob
        total += np.log(site_lik)
    return total


JC_Q = (np.ones((4, 4)) - 4 * np.eye(4)) / 3.0


@pytest.mark.parametrize(
    "newick",
    ["((a,b),c,d);", "((a,b),(c,d),e);", "(((a,b),c),d,e);"],
)
def test_jc69_pruning_equals_brute_force(newick):
    rng = np.random.default_rng(3)
    taxa = tuple(sorted(set(newick) & set("abcde")))
    seqs = ["".join(rng.choice(list("ACGT"), size=12)) for _ in taxa]
    seqs[0] = "N-" + seqs[0][2:]  # unknown states enter as all-ones partials
    aln = Alignment(taxa, tuple(seqs))
    topo = parse_newick(newick, taxa)
    lengths = torch.tensor(rng.uniform(0.01, 0.5, topo.n_branches))
    ours = TreeLikelihood(topo, compress_patterns(aln)).log_likelihood(lengths)
    expected = _brute_force(topo, lengths.numpy(), seqs, JC_Q, np.full(4, 0.25), [1.0], [1.0])
    assert float(ours) == pytest.approx(expected, abs=1e-9)


def test_gtr_gamma_pruning_equals_brute_force():
    rng = np.random.default_rng(5)
    taxa = ("a", "b", "c", "d")
    seqs = ["".join(rng.choice(list("ACGT"), size=8)) for _ in taxa]
    seqs[2] = "R" + seqs[2][1:]  # ambiguity code: A or G
    model = GTR(rates=(1.0, 2.0, 0.5, 1.5, 3.0, 1.0), base_frequencies=(0.1, 0.2, 0.3, 0.4), gamma_shape=0.7)
    topo = parse_newick("((a,b),c,d);", taxa)
    lengths = torch.tensor(rng.uniform(0.05, 0.6, topo.n_branches))
    ours = TreeLikelihood(topo, compress_patterns(Alignment(taxa, tuple(seqs))), model).log_likelihood(
        lengths
    )
    freqs = np.array([0.1, 0.2, 0.3, 0.4])
    exch = np.zeros((4, 4))
    exch[np.triu_indices(4, 1)] = [1.0, 2.0, 0.5, 1.5, 3.0, 1.0]
    exch = exch + exch.T
    q = exch * freqs[None]
    q -= np.diag(q.sum(1))
    q /= -(freqs * np.diag(q)).sum()
    rates = model._category_rates.numpy()
    seqs_bf = [s.replace("R", "N") for s in seqs]  # brute force below handles R explicitly

    # R allows A and G only: sum those two tip states by hand.
    def with_tip(letter):
        s = list(seqs_bf)
        s[2] = letter + s[2][1:]
        return s

    first = [with_tip("A"), with_tip("G")]
    rest = _brute_force(topo, lengths.numpy(), [s[1:] for s in seqs], q, freqs, rates, np.full(4, 0.25))
    col0 = sum(
        np.exp(_brute_force(topo, lengths.numpy(), [x[:1] for x in s], q, freqs, rates, np.full(4, 0.25)))
        for s in first
    )
    assert float(ours) == pytest.approx(rest + np.log(col0), abs=1e-9)


def test_batch_rows_equal_single_evaluations_and_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    taxa = tuple("abcdef")
    aln = Alignment(taxa, tuple("".join(rng.choice(list("ACGT"), size=40)) for _ in taxa))
    topo = parse_newick("((a,b),((c,d),e),f);", taxa)
    lik = TreeLikelihood(topo, compress_patterns(aln))
    batch = torch.tensor(rng.uniform(0.01, 0.4, (5, topo.n_branches)), requires_grad=True)
    values = lik.log_likelihood(batch)
    singles = torch.stack([lik.log_likelihood(row.detach()) for row in batch])
    torch.testing.assert_close(values.detach(), singles, rtol=0, atol=1e-10)
    (grad,) = torch.autograd.grad(values.sum(), batch)
    step = 1e-6
    for branch in range(topo.n_branches):
        bump = torch.zeros(topo.n_branches, dtype=torch.float64)
        bump[branch] = step
        fd = (lik.log_likelihood(batch[0].detach() + bump) - lik.log_likelihood(batch[0].detach() - bump)) / (
            2 * step
        )
        assert float(grad[0, branch]) == pytest.approx(float(fd), rel=1e-5, abs=1e-6)


def test_fifty_taxa_do_not_underflow(study_data):
    aln = read_alignment(study_data / "DS5.nex")
    first_line = (study_data / "JC_no_gamma_credible_set_ds5").read_text().splitlines()[0]
    tree = parse_newick(first_line.split("\t")[1], aln.taxa)
    lik = TreeLikelihood(tree, compress_patterns(aln))
    assert lik.topology.n_taxa == 50
    value = lik.log_likelihood(torch.full((2, lik.n_branches), 0.5, dtype=torch.float64))
    assert torch.isfinite(value).all()
    # Long branches make most per-site likelihoods tiny; rescaling keeps them exact: each
    # site's log-likelihood stays above the all-independent-tips bound n * log(1/4).
    sites = lik.pattern_log_likelihood(torch.full((lik.n_branches,), 5.0, dtype=torch.float64))
    assert float(sites.min()) == pytest.approx(50 * np.log(0.25), rel=1e-3)


def test_jc69_closed_form_matches_matrix_exponential():
    t = torch.tensor([0.0, 0.1, 1.3])
    ours = JC69().transition_matrices(t.to(torch.float64))[:, 0]
    for i, length in enumerate(t.tolist()):
        np.testing.assert_allclose(ours[i].numpy(), expm(JC_Q * length), atol=1e-12)


def test_ds2_log_likelihood_matches_mrbayes(study_data):
    """Peer value recorded once from MrBayes 3.2.7a (Debian package ``mrbayes``): DS2.nex plus
    ``begin trees; tree fixedtree = <first SRF topology with the lengths below>; end;`` and
    ``begin mrbayes; lset nst=1 rates=equal; prset statefreqpr=fixed(equal)
    topologypr=fixed(fixedtree) brlenspr=unconstrained:exp(10); startvals V=fixedtree;
    mcmc ngen=1 nruns=1 nchains=1; end;``, whose output reads
    "Initial log likelihoods ...: Chain 1 -- -29685.153582 -- -22.613334".
    MrBayes keeps conditional likelihoods in single precision: agreement to ~1e-3 nats in 3e4.
    (tools/bench/phylo_marglik.py reruns this comparison live.)"""
    aln = read_alignment(study_data / "DS2.nex")
    first_line = (study_data / "JC_no_gamma_credible_set_ds2").read_text().splitlines()[0]
    tree = parse_newick(first_line.split("\t")[1], aln.taxa)
    gen = torch.Generator().manual_seed(0)
    lengths = 0.02 + 0.2 * torch.rand(tree.n_branches, generator=gen, dtype=torch.float64)
    lengths = torch.tensor([float(f"{v:.10g}") for v in lengths.tolist()], dtype=torch.float64)
    ours = float(TreeLikelihood(tree, compress_patterns(aln)).log_likelihood(lengths))
    assert ours == pytest.approx(-29685.153582, abs=2e-3)
    # MrBayes's log prior includes log(1 / (2n-5)!!) for its uniform topology prior
    log_prior = tree.n_branches * np.log(10.0) - 10.0 * float(lengths.sum())
    topologies = sum(np.log(k) for k in range(1, 2 * 29 - 4, 2))
    assert log_prior - topologies == pytest.approx(-22.613334, abs=1e-5)


def _closed_form_and_matrix(topology, patterns, lengths):
    fast = TreeLikelihood(topology, patterns)
    general = TreeLikelihood(topology, patterns, closed_form=False)
    assert fast.closed_form and not general.closed_form
    return fast.log_likelihood(lengths), general.log_likelihood(lengths)


@pytest.mark.parametrize(
    "newick",
    ["((a,b),c,d);", "(((a,b),c),d,(e,f));", "((((a,b),c),d),(e,(f,g)),h);", "((a,b),(c,d),((e,f),(g,h)));"],
)
def test_jc69_closed_form_equals_matrix_path(newick):
    rng = np.random.default_rng(len(newick))
    taxa = tuple(sorted(set(newick) & set("abcdefgh")))
    seqs = ["".join(rng.choice(list("ACGTRN-"), p=[0.22] * 4 + [0.04] * 3, size=60)) for _ in taxa]
    patterns = compress_patterns(Alignment(taxa, tuple(seqs)))
    topo = parse_newick(newick, taxa)
    lengths = torch.tensor(rng.exponential(0.2, (6, topo.n_branches)))
    lengths[0, 0] = 0.0  # zero, tiny and long branches: rescaling at both ends
    lengths[1, :2] = 1e-12
    lengths[2, -1] = 8.0
    fast, general = _closed_form_and_matrix(topo, patterns, lengths)
    torch.testing.assert_close(fast, general, rtol=1e-10, atol=0)
    # the same rows one at a time, and gradients through both paths
    singles = torch.stack([TreeLikelihood(topo, patterns).log_likelihood(row) for row in lengths])
    torch.testing.assert_close(singles, general, rtol=1e-10, atol=0)
    grads = []
    for closed_form in (True, False):
        x = lengths[3:].clone().requires_grad_(True)
        value = TreeLikelihood(topo, patterns, closed_form=closed_form).log_likelihood(x).sum()
        grads.append(torch.autograd.grad(value, x)[0])
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-9, atol=1e-9)


def test_jc69_closed_form_equals_matrix_path_on_ds2(study_data):
    """DS2 (29 taxa, 1246 patterns), the study's credible-set topologies, random lengths; the
    batch is larger than one CPU chunk of the closed-form path, so chunking is covered too."""
    aln = read_alignment(study_data / "DS2.nex")
    patterns = compress_patterns(aln)
    lines = (study_data / "JC_no_gamma_credible_set_ds2").read_text().splitlines()[:3]
    gen = torch.Generator().manual_seed(1)
    for line in lines:
        topo = parse_newick(line.split("\t")[1], aln.taxa)
        lengths = 0.3 * torch.rand(8, topo.n_branches, generator=gen, dtype=torch.float64) ** 2
        assert TreeLikelihood(topo, patterns)._chunk_rows(lengths) < lengths.shape[0]
        fast, general = _closed_form_and_matrix(topo, patterns, lengths)
        torch.testing.assert_close(fast, general, rtol=1e-10, atol=0)
