"""Bottom-up / top-down attention: scenes, feature files, attention, decoding, caption metrics, loaders, learning."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.errors import InputError
from vision_attention.config import TrainConfig
from vision_attention.training import build_model, fit
from vision_attention.updown.captioner import TopDownCaptioner
from vision_attention.updown.coco import load_coco_captions, load_vqa, tokenize
from vision_attention.updown.config import CaptionerConfig, SceneConfig, VQAConfig
from vision_attention.updown.features import (
    BottomUpRecord,
    SceneEncoder,
    grid_features,
    pad_regions,
    read_bottom_up_tsv,
    region_features,
    write_bottom_up_tsv,
)
from vision_attention.updown.metrics import bleu, cider_d, ngrams
from vision_attention.updown.scenes import make_scenes, relation
from vision_attention.updown.text import BOS, EOS, Vocabulary
from vision_attention.updown.vqa import GatedTanh, TopDownVQA


def _features(n=3, k=5, d=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(n, k, d, generator=generator)
    mask = torch.ones(n, k, dtype=torch.bool)
    mask[0, 2:] = False
    mask[1, 4:] = False
    return features, mask


# ---------------------------------------------------------------------------------------------- scenes


def test_scenes_are_deterministic_non_overlapping_and_described_correctly():
    scenes = make_scenes(20, SceneConfig(seed=4))
    again = make_scenes(20, SceneConfig(seed=4))
    assert all(
        np.array_equal(a.image, b.image) and a.captions == b.captions
        for a, b in zip(scenes, again, strict=True)
    )
    for scene in scenes:
        k = len(scene.objects)
        assert 2 <= k <= 4 and len(scene.captions) == k * (k - 1)
        for i, a in enumerate(scene.objects):
            for b in scene.objects[i + 1 :]:
                assert not (
                    a.box[0] < b.box[2]
                    and b.box[0] < a.box[2]
                    and a.box[1] < b.box[3]
                    and b.box[1] < a.box[3]
                )
        for question, answer in scene.questions:
            if question.startswith("how many"):
                color = question.split()[2]
                assert int(answer) == sum(o.color == color for o in scene.objects)
    a, b = scenes[0].objects[:2]
    assert {relation(a, b), relation(b, a)} in ({"left of", "right of"}, {"above", "below"})
    with pytest.raises(InputError, match="SceneConfig"):
        SceneConfig(min_objects=5, max_objects=3)


# ------------------------------------------------------------------------------------- feature files


def test_bottom_up_tsv_round_trips_and_malformed_lines_name_file_line_and_field(tmp_path):
    records = [
        BottomUpRecord(
            "7", 40, 30, np.array([[0, 0, 10, 10], [5, 5, 30, 20]], np.float32), np.ones((2, 8), np.float32)
        ),
        BottomUpRecord("9", 40, 30, np.array([[1, 2, 3, 4]], np.float32), np.zeros((1, 8), np.float32)),
    ]
    path = write_bottom_up_tsv(tmp_path / "f.tsv", records)
    back = read_bottom_up_tsv(path, feature_size=8)
    assert [r.image_id for r in back] == ["7", "9"] and np.array_equal(back[0].boxes, records[0].boxes)
    with pytest.raises(InputError, match="expected: 2048"):
        read_bottom_up_tsv(path, feature_size=2048)
    good = path.read_text().splitlines()
    fields = good[1].split("\t")
    cases = {
        "found 5": "\t".join(fields[:5]),
        "num_boxes must be integers": "\t".join([*fields[:3], "two", *fields[4:]]),
        "not base64": "\t".join([*fields[:4], "!!!", fields[5]]),
        "do not hold 3 rows": "\t".join([*fields[:3], "3", *fields[4:]]),
        "outside its image": "\t".join(
            [*fields[:4], base64.b64encode(np.array([0, 0, 99, 4], np.float32).tobytes()).decode(), fields[5]]
        ),
    }
    for message, line in cases.items():
        bad = tmp_path / "bad.tsv"
        bad.write_text(good[0] + "\n" + line + "\n")
        with pytest.raises(InputError, match=message) as caught:
            read_bottom_up_tsv(bad)
        assert "line 2" in str(caught.value)
    with pytest.raises(InputError, match="not found"):
        read_bottom_up_tsv(tmp_path / "missing.tsv")


def test_region_and_grid_features_have_box_content_and_geometry():
    scenes = make_scenes(3)
    images = torch.tensor(np.stack([s.image for s in scenes]))
    encoder = build_model(lambda: SceneEncoder(8), 0)
    regions = region_features(encoder, images, [torch.tensor(s.boxes) for s in scenes])
    assert [len(r) for r in regions] == [len(s.objects) for s in scenes] and regions[0].shape[1] == 8 + 5
    assert torch.allclose(regions[0][:, 8:12], torch.tensor(scenes[0].boxes) / 48)
    grid = grid_features(encoder, images)
    assert grid.shape == (3, 16, 13) and torch.allclose(
        grid[0, 5, 8:12], torch.tensor([12, 12, 24, 24]) / 48.0
    )
    padded, mask = pad_regions(regions)
    assert padded.shape[1] == max(len(r) for r in regions) and mask.sum(1).tolist() == [
        len(r) for r in regions
    ]
    with pytest.raises(InputError, match="no regions"):
        pad_regions([regions[0], regions[0][:0]])


# ----------------------------------------------------------------------------- attention and decoding


def test_attention_weights_sum_to_one_and_ignore_padding():
    features, mask = _features()
    captioner = build_model(lambda: TopDownCaptioner(CaptionerConfig(feature_size=6, vocab_size=9)), 0)
    alpha = captioner.attention(captioner.attend_features(features), mask, torch.randn(3, 128))
    vqa = build_model(lambda: TopDownVQA(VQAConfig(feature_size=6, vocab_size=9, answers=4)), 0)
    beta = vqa.attention(features, mask, torch.randn(3, 128))
    for weights in (alpha, beta):
        assert torch.allclose(weights.sum(1), torch.ones(3)) and bool((weights[~mask] == 0).all())
    # padding content never reaches the output
    changed = features.clone()
    changed[~mask] = 100.0
    question = torch.tensor([[4, 5, 6, 0], [4, 0, 0, 0], [7, 8, 0, 0]])
    assert torch.allclose(vqa(features, mask, question), vqa(changed, mask, question))
    assert torch.equal(captioner.greedy(features, mask), captioner.greedy(changed, mask))


def test_beam_search_with_beam_one_equals_greedy_and_wider_beams_score_no_worse():
    features, mask = _features(n=6)
    config = CaptionerConfig(feature_size=6, vocab_size=9, max_length=6)
    captioner = build_model(lambda: TopDownCaptioner(config), 2).eval()
    greedy = captioner.greedy(features, mask).tolist()
    trimmed = [row[: row.index(EOS) + 1] if EOS in row else row for row in greedy]
    assert captioner.beam_search(features, mask, beam=1) == trimmed

    def log_prob(i, words):
        tokens = torch.tensor([[BOS, *words]])
        with torch.no_grad():
            logp = torch.log_softmax(captioner(features[i : i + 1], mask[i : i + 1], tokens), -1)
        return float(logp[0, torch.arange(len(words)), torch.tensor(words)].sum())

    for i, (one, three) in enumerate(
        zip(trimmed, captioner.beam_search(features, mask, beam=3), strict=True)
    ):
        if one[-1] == EOS:
            assert log_prob(i, three) >= log_prob(i, one) - 1e-5


def test_gated_tanh_is_tanh_times_sigmoid():
    layer = build_model(lambda: GatedTanh(3, 2), 0)
    x = torch.randn(4, 3)
    expected = torch.tanh(layer.value(x)) * torch.sigmoid(layer.gate(x))
    assert torch.allclose(layer(x), expected)


# ----------------------------------------------------------------------------------------- metrics


def test_cider_d_matches_a_hand_computation():
    """Two images, one reference each, n = 1 only in the hand computation (orders 2-4 computed the same way).

    Image 0: candidate "a b", reference "a b". Image 1: candidate "a", reference "a c".
    df(a) = 2, df(b) = 1, df(c) = 1, df(a b) = 1, df(a c) = 1; log N = log 2.
    """
    candidates, references = {0: "a b", 1: "a"}, {0: ["a b"], 1: ["a c"]}
    log_n = math.log(2)
    # image 0: idf(a) = log2 - log2 = 0, idf(b) = log 2 -> unigram cosine 1, bigram (a b) cosine 1; orders 3-4 empty
    image0 = 10 * (1 + 1 + 0 + 0) / 4
    # image 1: candidate vector {a: 0}: zero norm, so the unigram term is the raw overlap 0; other orders empty
    image1 = 0.0
    assert log_n > 0
    assert cider_d(candidates, references) == pytest.approx((image0 + image1) / 2, abs=1e-9)
    # the Gaussian length penalty: candidate "b" against reference "b b b b" (same n-gram direction)
    penalty = math.exp(-(3**2) / (2 * 6.0**2))
    value = cider_d({0: "b", 1: "z"}, {0: ["b b b b"], 1: ["y"]})
    unigram = 1.0 * penalty  # min(1, 4) * 4 * idf^2 / (1 * idf * 4 * idf)
    assert value == pytest.approx((10 * unigram / 4 + 0.0) / 2, abs=1e-9)


def test_bleu_matches_a_hand_computation():
    # candidate 7 words, references 6 and 9 words: closest length 6, so no brevity penalty
    candidate = "the cat sat on the red mat"
    refs = ["the cat is on the mat", "there is a cat sitting on the red mat"]
    scores = bleu({0: candidate}, {0: refs})
    # clipped matches: unigrams the(2, max ref count 2) cat sat? no on the red mat -> the,cat,on,the,red,mat = 6/7
    p1 = 6 / 7
    # bigrams: "the cat" yes, "cat sat" no, "sat on" no, "on the" yes, "the red" yes, "red mat" yes -> 4/6
    p2 = 4 / 6
    assert scores[0] == pytest.approx(p1, abs=1e-9)
    assert scores[1] == pytest.approx(math.sqrt(p1 * p2), abs=1e-9)
    short = bleu({0: "the cat"}, {0: ["the cat sat"]})
    assert short[0] == pytest.approx(math.exp(1 - 3 / 2), abs=1e-9)  # brevity penalty, precision 1
    assert ngrams("a b a b".split(), 2) == {("a", "b"): 2, ("b", "a"): 1}
    with pytest.raises(InputError, match="no reference"):
        bleu({0: "a"}, {1: ["a"]})


# ------------------------------------------------------------------------------------------ loaders


def test_coco_and_vqa_loaders_read_the_formats_and_name_bad_entries(tmp_path):
    captions = tmp_path / "captions.json"
    captions.write_text(
        json.dumps({"images": [], "annotations": [{"image_id": 3, "id": 1, "caption": "A Dog, running."}]})
    )
    assert load_coco_captions(captions) == {3: ["a dog running"]}
    captions.write_text(json.dumps({"annotations": [{"image_id": "x", "caption": "a"}]}))
    with pytest.raises(InputError, match=r"annotations\[0\]"):
        load_coco_captions(captions)
    captions.write_text("{not json")
    with pytest.raises(InputError, match="line 1"):
        load_coco_captions(captions)
    questions, annotations = tmp_path / "q.json", tmp_path / "a.json"
    questions.write_text(
        json.dumps({"questions": [{"image_id": 3, "question": "What colour?", "question_id": 30}]})
    )
    answers = (
        [{"answer": "red"}] * 2
        + [{"answer": "Red"}] * 2
        + [{"answer": "blue"}] * 1
        + [{"answer": "green"}] * 5
    )
    annotations.write_text(
        json.dumps({"annotations": [{"question_id": 30, "image_id": 3, "answers": answers}]})
    )
    (example,) = load_vqa(questions, annotations)
    assert example.question == "what colour" and example.scores == {
        "red": 1.0,
        "blue": pytest.approx(1 / 3),
        "green": 1.0,
    }
    annotations.write_text(json.dumps({"annotations": []}))
    with pytest.raises(InputError, match="question_id 30"):
        load_vqa(questions, annotations)
    assert tokenize("Is it  red?") == "is it red"


def test_vocabulary_encodes_pads_and_decodes():
    vocab = Vocabulary.build(["a red cube", "a cube"])
    ids = vocab.encode("a red sphere", 4, bos=True, eos=True)
    assert ids[0] == BOS and ids[4] == EOS and ids[-1] == 0 and len(ids) == 6
    assert vocab.decode(ids) == "a red"  # <unk> and specials are dropped


# ----------------------------------------------------------------------------------------- learning


def test_vqa_model_learns_to_answer_from_the_attended_region():
    """Each example: 3 regions, one flagged by the question; the answer is that region's class (4 classes).
    The model must attend to the right region: margin, test accuracy >= 0.8 vs chance 0.25 (measured 1.00)."""
    generator = torch.Generator().manual_seed(0)
    n = 600
    classes = torch.randint(0, 4, (n, 3), generator=generator)
    features = torch.cat([F.one_hot(classes, 4).float(), torch.eye(3).expand(n, 3, 3)], dim=2)
    target = torch.randint(0, 3, (n,), generator=generator)
    questions = torch.stack([torch.full((n,), 4), target + 5], dim=1)  # "which <slot>"
    mask = torch.ones(n, 3, dtype=torch.bool)
    answers = classes[torch.arange(n), target]
    scores = F.one_hot(answers, 4).float()
    vqa = build_model(
        lambda: TopDownVQA(VQAConfig(feature_size=7, vocab_size=8, answers=4, hidden_size=32, embed_size=16)),
        0,
    )

    def loss(net, batch):
        return F.binary_cross_entropy_with_logits(net(batch[0], batch[1], batch[2]), batch[3]) * 4

    train = slice(0, 500)
    fit(
        vqa,
        loss,
        [features[train], mask[train], questions[train], scores[train]],
        TrainConfig(epochs=15, learning_rate=1e-2),
    )
    with torch.no_grad():
        accuracy = float(
            (vqa(features[500:], mask[500:], questions[500:]).argmax(1) == answers[500:]).float().mean()
        )
    assert accuracy >= 0.8, accuracy


def test_captioner_learns_to_name_the_attended_region():
    """Two regions, one marked; the caption is the marked region's word (5 words). Margin: greedy exact match
    >= 0.8 on held-out examples vs chance 0.2 (measured 1.00)."""
    generator = torch.Generator().manual_seed(1)
    n = 400
    classes = torch.randint(0, 5, (n, 2), generator=generator)
    marked = torch.randint(0, 2, (n,), generator=generator)
    features = torch.cat([F.one_hot(classes, 5).float(), F.one_hot(marked, 2)[:, :, None].float()], dim=2)
    mask = torch.ones(n, 2, dtype=torch.bool)
    words = classes[torch.arange(n), marked] + 4  # ids 4..8 after the four specials
    tokens = torch.stack([torch.full((n,), BOS), words, torch.full((n,), EOS)], dim=1)
    config = CaptionerConfig(
        feature_size=6, vocab_size=9, hidden_size=32, embed_size=16, attention_size=16, max_length=3
    )
    captioner = build_model(lambda: TopDownCaptioner(config), 0)

    def loss(net, batch):
        logits = net(batch[0], batch[1], batch[2])
        return F.cross_entropy(logits.reshape(-1, 9), batch[2][:, 1:].reshape(-1))

    fit(
        captioner,
        loss,
        [features[:300], mask[:300], tokens[:300]],
        TrainConfig(epochs=20, learning_rate=1e-2),
    )
    decoded = captioner.greedy(features[300:], mask[300:])
    assert float((decoded[:, 0] == words[300:]).float().mean()) >= 0.8
