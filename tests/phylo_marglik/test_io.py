"""Reading alignments and trees, and the errors bad input must raise (naming the item)."""

from __future__ import annotations

import pytest
import torch

from core.errors import InputError
from phylo_marglik.alignment import Alignment, compress_patterns, read_alignment
from phylo_marglik.likelihood import TreeLikelihood
from phylo_marglik.posterior import BranchLengthPosterior
from phylo_marglik.tree import parse_newick, read_credible_set

FASTA = ">t1\nACGTRY-N\n>t2\nACGTACGT\n>t3\nACCTACGA\n>t4\nTCGTACG?\n"


def test_nexus_fasta_and_phylip_read_the_same_alignment(tmp_path):
    (tmp_path / "a.fasta").write_text(FASTA)
    fasta = read_alignment(tmp_path / "a.fasta")
    (tmp_path / "a.phy").write_text(
        "4 8\n" + "".join(f"{t} {s}\n" for t, s in zip(fasta.taxa, fasta.sequences))
    )
    rows = "".join(f"  {t} {s}\n" for t, s in zip(fasta.taxa, fasta.sequences))
    (tmp_path / "a.nex").write_text(
        "#NEXUS\nBEGIN DATA;\nDIMENSIONS NTAX=4 NCHAR=8;\nFORMAT DATATYPE=DNA MISSING=? GAP=-;\n"
        f"MATRIX\n{rows};\nEND;\n"
    )
    for other in (read_alignment(tmp_path / "a.phy"), read_alignment(tmp_path / "a.nex")):
        assert other.taxa == fasta.taxa and other.sequences == fasta.sequences
    assert fasta.taxa == ("t1", "t2", "t3", "t4") and fasta.n_sites == 8


def test_ambiguity_codes_and_gaps_become_partial_states_and_patterns_are_weighted():
    aln = Alignment(("a", "b", "c"), ("AAR-", "AACC", "GGNN"))
    patterns = compress_patterns(aln)
    assert patterns.n_sites == 4 and patterns.n_patterns == 3  # columns 1 and 2 are identical
    assert sorted(patterns.weights.tolist()) == [1.0, 1.0, 2.0]
    rows = {tuple(patterns.tip_partials[0, p].tolist()) for p in range(3)}
    assert (1.0, 0.0, 1.0, 0.0) in rows  # R = A or G
    assert (1.0, 1.0, 1.0, 1.0) in rows  # gap = unknown


def test_study_dataset_reads_with_its_taxa(study_data):
    aln = read_alignment(study_data / "DS2.nex")
    assert len(aln.taxa) == 29 and aln.n_sites == 2520
    trees, probs = read_credible_set(study_data / "JC_no_gamma_credible_set_ds2", aln.taxa)
    assert len(trees) == 5 and probs[0] == pytest.approx(0.523681)
    assert all(t.n_branches == 55 for t in trees)


def test_unknown_character_names_taxon_and_column(tmp_path):
    with pytest.raises(InputError, match=r"unknown nucleotide character 'J'.*taxon 'b', column 3"):
        Alignment(("a", "b"), ("ACGT", "ACJT"))


def test_malformed_alignment_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.nex"
    bad.write_text("#NEXUS\nBEGIN DATA;\nDIMENSIONS NTAX=2 NCHAR=4;\nMATRIX\n a ACGT\n b AC\n;\nEND;\n")
    with pytest.raises(InputError, match=r"bad\.nex"):
        read_alignment(bad)
    fasta = tmp_path / "bad.fasta"
    fasta.write_text(">a\nACGT\n>b\nACJT\n")
    with pytest.raises(InputError, match=r"'J'.*bad\.fasta, line 4"):
        read_alignment(fasta)
    with pytest.raises(InputError, match="not found"):
        read_alignment(tmp_path / "missing.fasta")


def test_empty_alignment_is_rejected(tmp_path):
    (tmp_path / "empty.fasta").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_alignment(tmp_path / "empty.fasta")
    with pytest.raises(InputError, match="no sites"):
        Alignment(("a", "b", "c"), ("", "", ""))
    with pytest.raises(InputError, match="no taxa"):
        Alignment((), ())


def test_mismatched_taxa_between_tree_and_alignment(tmp_path):
    with pytest.raises(InputError, match=r"taxa do not match.*alignment only \['d'\].*tree only \['x'\]"):
        parse_newick("((a,b),c,x);", ("a", "b", "c", "d"))
    trees = tmp_path / "trees.nwk"
    trees.write_text("((a,b),c,d);\n((a,c),b,e);\n")
    with pytest.raises(InputError, match=r"trees.nwk, line 2"):
        read_credible_set(trees, ("a", "b", "c", "d"))
    aln = Alignment(("a", "b", "c", "e"), ("AC", "AC", "AC", "AC"))
    with pytest.raises(InputError, match="taxa do not match"):
        TreeLikelihood(parse_newick("((a,b),c,d);"), compress_patterns(aln))


def test_negative_branch_lengths_are_rejected():
    with pytest.raises(InputError, match="negative branch length"):
        parse_newick("((a:0.1,b:-0.2):0.1,c:0.1,d:0.1);")
    aln = Alignment(("a", "b", "c", "d"), ("AC", "AC", "AG", "AT"))
    posterior = BranchLengthPosterior(parse_newick("((a,b),c,d);", aln.taxa), compress_patterns(aln))
    lengths = torch.full((2, 5), 0.1, dtype=torch.float64)
    lengths[1, 3] = -0.01
    with pytest.raises(InputError, match=r"row 1, branch 3"):
        posterior.log_likelihood(lengths)
    with pytest.raises(InputError, match="wrong shape"):
        posterior.log_likelihood(torch.full((2, 4), 0.1, dtype=torch.float64))


def test_rooted_newick_is_unrooted_and_non_binary_trees_are_rejected():
    taxa = ("a", "b", "c", "d")
    rooted = parse_newick("((a:0.1,b:0.2):0.05,(c:0.3,d:0.4):0.15);", taxa)
    assert rooted.n_branches == 5
    assert sorted(rooted.branch_lengths.tolist()) == pytest.approx([0.1, 0.2, 0.2, 0.3, 0.4])
    unrooted = parse_newick("((a:0.1,b:0.2):0.2,c:0.3,d:0.4);", taxa)
    aln = Alignment(taxa, ("ACGTA", "ACGTT", "AGGTA", "TCGCA"))
    pats = compress_patterns(aln)
    same = [TreeLikelihood(t, pats).log_likelihood(t.branch_lengths) for t in (rooted, unrooted)]
    assert float(same[0]) == pytest.approx(float(same[1]), abs=1e-10)
    with pytest.raises(InputError, match="not binary"):
        parse_newick("((a,b,e),c,d);", ("a", "b", "c", "d", "e"))
    with pytest.raises(InputError, match="cannot parse Newick"):
        parse_newick("((a,b),c,d", ("a", "b", "c", "d"))


def test_splits_of_a_topology():
    topo = parse_newick("((a,b),(c,d),(e,f));", tuple("abcdef"))
    splits = topo.splits()
    # a is tip 0: splits are reported on the side without it
    assert set(splits) == {0b111100, 0b001100 | 0b110000 ^ 0b110000, 0b110000}


def test_x_is_accepted_as_the_unknown_code_like_n():
    aln = Alignment(("a", "b", "c"), ("AXC", "ANC", "AAC"))
    patterns = compress_patterns(aln)
    assert patterns.n_patterns == 3
    x_column = compress_patterns(Alignment(("a", "b"), ("X", "N"))).tip_partials[:, 0]
    assert x_column.tolist() == [[1.0] * 4, [1.0] * 4]


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("j.fasta", ">a\nACGT\nACGT\n>b\nACGT\nACJT\n", "line 6: taxon 'b', column 7"),
        ("j.phy", "2 4\na ACGT\nb ACGJ\n", "line 3: taxon 'b', column 4"),
        (
            "j.nex",
            "#NEXUS\nBEGIN DATA;\nDIMENSIONS NTAX=3 NCHAR=4;\nFORMAT DATATYPE=DNA;\nMATRIX\n"
            "a ACGT\n'b c' ACGT\nd AC[note]OT\n;\nEND;\n",
            "line 8: taxon 'd', column 3",
        ),
    ],
)
def test_unknown_characters_in_files_name_line_taxon_and_column(tmp_path, name, text, where):
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as info:
        read_alignment(tmp_path / name)
    message = str(info.value)
    assert message.startswith("unknown nucleotide character") and f"{name}, {where}" in message, message
    assert "'X' (unknown)" in message and "DnaStateAlphabet" not in message


def test_nexus_trees_block_is_read_by_read_trees_and_reported_when_reading_the_alignment(tmp_path):
    nexus = tmp_path / "both.nex"
    nexus.write_text(
        "#NEXUS\nBEGIN DATA;\nDIMENSIONS NTAX=4 NCHAR=4;\nFORMAT DATATYPE=DNA;\nMATRIX\n"
        "a ACGT\nb ACGT\nc ACGA\nd ACGG\n;\nEND;\n"
        "BEGIN TREES;\nTRANSLATE 1 a, 2 b, 3 c, 4 d;\nTREE one = ((1,2),3,4);\nTREE two = ((1,3),2,4);\nEND;\n"
    )
    with pytest.warns(UserWarning, match=r"TREES block \(2 trees\) is ignored"):
        aln = read_alignment(nexus)
    trees, probabilities = read_credible_set(nexus, aln.taxa)
    assert [t.splits() for t in trees] == [
        parse_newick("((a,b),c,d);", aln.taxa).splits(),
        parse_newick("((a,c),b,d);", aln.taxa).splits(),
    ]
    assert probabilities == [None, None]


def test_unary_nodes_star_trees_and_wide_bases_get_their_own_messages():
    with pytest.raises(InputError, match=r"unary node.*the node above d"):
        parse_newick("((a,b),c,(d));")
    with pytest.raises(InputError, match=r"a star tree: all 5 taxa hang from one node"):
        parse_newick("(a,b,c,d,e);")
    with pytest.raises(InputError, match=r"not binary: an internal node has 3 children.*joining a, b, e"):
        parse_newick("((a,b,e),c,d);")
    with pytest.raises(InputError, match=r"base has 4 subtrees.*\(a, b\), \(c, d\), \(e, f\), g"):
        parse_newick("((a,b),(c,d),(e,f),g);")
