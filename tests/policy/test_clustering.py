"""Needs are grouped by what they say, across Chinese and English: the clustering core against brute force,
and the real multilingual encoder on the bilingual sample the demo ships."""

from __future__ import annotations

import json
from collections import Counter
from math import comb
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agglo.policy import clustering

SAMPLE = Path(clustering.__file__).with_name("data") / "needs.json"


def brute_force(vectors, threshold):
    groups = [[i] for i in range(len(vectors))]
    sim = vectors.astype(np.float64) @ vectors.T.astype(np.float64)
    while len(groups) > 1:
        score, a, b = max(
            (sim[np.ix_(groups[a], groups[b])].mean(), a, b)
            for a in range(len(groups))
            for b in range(a + 1, len(groups))
        )
        if score < threshold:
            break
        groups[a] = groups[a] + groups[b]
        del groups[b]
    return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g[0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(2, 30))
def test_average_linkage_equals_the_brute_force_definition(seed, themes, n):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(themes, 16))
    v = centres[rng.integers(0, themes, n)] + rng.normal(scale=0.7, size=(n, 16))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    assert clustering.cluster(v, 0.35) == brute_force(v, 0.35)


def test_nothing_to_group_and_too_much_to_group():
    assert clustering.cluster(np.zeros((0, 4), dtype=np.float32)) == []
    with pytest.raises(ValueError):
        clustering.cluster(np.zeros((clustering.MAX_NEEDS + 1, 4), dtype=np.float32))


def adjusted_rand(truth, found):
    pairs = sum(comb(n, 2) for n in Counter(zip(truth, found, strict=True)).values())
    a = sum(comb(n, 2) for n in Counter(truth).values())
    b = sum(comb(n, 2) for n in Counter(found).values())
    expected = a * b / comb(len(truth), 2)
    return (pairs - expected) / ((a + b) / 2 - expected)


def test_the_encoder_groups_the_bilingual_sample_by_theme():
    from agglo.policy.needs import encoder

    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))
    texts, themes = [r[2] for r in rows], [r[1] for r in rows]
    vectors = encoder().encode(texts)
    groups = clustering.cluster(vectors)
    found = [0] * len(texts)
    for k, group in enumerate(groups):
        for i in group:
            found[i] = k
    # Each need is followed by its translation: the two always land together, whatever the language.
    assert all(found[i] == found[i + 1] for i in range(0, len(texts), 2))
    assert adjusted_rand(themes, found) >= 0.6
    named = clustering.describe(vectors, texts, groups)
    loans = next(g for g in named if themes[g.members[0]] == "loans")
    assert {"贷款", "loan"} & set(loans.words)


def test_key_words_keep_acronyms_as_written_and_leave_out_filler():
    # review 56b: the dashboard showed "r&d", "pct" and words such as 这里 and "new"
    from agglo.policy.clustering import describe, written_words

    assert written_words("We need R&D funding for new PCT filings here") == ["R&D", "funding", "PCT", "filings"]
    assert "这里" not in written_words("这里的企业进不了政府采购")
    texts = ["PCT filings cost too much", "PCT fees and R&D costs", "R&D tax credit for PCT"]
    vectors = np.eye(3, dtype=np.float32)
    (group,) = describe(vectors, texts, [[0, 1, 2]])
    assert "PCT" in group.words and "pct" not in group.words


def test_a_word_jieba_made_up_does_not_name_a_group():
    # review 100: a group of medical-device needs was named "医疗器械 · medical · 通道 · 证要"
    from agglo.policy.clustering import describe, written_words

    texts = ["二类医疗器械证要等半年", "二类医疗器械证要排队审批", "医疗器械审批通道太慢"]
    assert "证要" in written_words(texts[0])  # still a word of the need, for the grouping
    (group,) = describe(np.eye(3, dtype=np.float32), texts, [[0, 1, 2]])
    assert "证要" not in group.words and "医疗器械" in group.words
