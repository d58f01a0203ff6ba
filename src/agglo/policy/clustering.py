"""Grouping policy needs by what they are about, across Chinese and English. Pure: vectors and texts in.

Needs are embedded by a multilingual sentence encoder (USE multilingual v3, see matching.embeddings), so that
"融资难，银行贷款要抵押" and "hard to get a bank loan without collateral" land close together. Groups are formed by
average-linkage agglomerative clustering on cosine similarity, stopping when the closest two groups are less
similar than a threshold: the number of groups follows the needs, it is not fixed in advance. Each group is
named by its most distinctive words (class-based TF-IDF over jieba words and English words) and shown by its
most central need.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import jieba
import numpy as np
import numpy.typing as npt

# Average cosine above which two groups are one topic. A need and its translation score far above it, needs on
# one theme around it; on the shipped sample (policy/data/needs.json, 48 needs on 12 themes in both languages) this
# keeps every translation beside its original and follows the themes (tests/policy/test_clustering.py).
THRESHOLD = 0.2
MAX_NEEDS = 2000
_CHUNK = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z][A-Za-z0-9&\-]+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_STOP_EN = (
    "the and of for with a an to in on at by or from our we us is are be can as that this your you it its "
    "too very more most not no so but have has had do does need needs want would could should get getting "
    "than there their them they which what when who how all any some many much also only just into about "
    "new here one every even still"
)
_STOP_ZH = (
    "的 和 与 及 等 或 在 为 了 是 有 我们 我司 公司 企业 需要 希望 一个 进行 相关 以及 可以 没有 比较 "
    "非常 太 很 对 也 都 就 还 而 但 但是 因为 所以 如果 能 能够 目前 现在 问题 难 困难 支持 政策 或者 而且 每年 "
    "这里 那里 这个 那个 这些 那些 这样 什么 怎么 为什么 不了 进不了 一些 一直 已经 总是 经常 我们的 自己"
)
STOPWORDS = frozenset(f"{_STOP_EN} {_STOP_ZH}".split())


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]  # indexes into the needs given, the central one first
    words: tuple[str, ...]  # the most distinctive words, best first


def cluster(vectors: npt.NDArray[np.float32], threshold: float = THRESHOLD) -> list[list[int]]:
    """Average-linkage clusters of L2-normalised vectors: lists of indexes, largest first, then by first index."""
    n = len(vectors)
    if n == 0:
        return []
    if n > MAX_NEEDS:
        raise ValueError(f"at most {MAX_NEEDS} needs are clustered at once, got {n}")
    sim = (vectors @ vectors.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n)
    members: list[list[int]] = [[i] for i in range(n)]
    best = sim.max(axis=1)  # each group's closest other group
    while True:
        i = int(np.argmax(best))
        if best[i] < threshold:
            break
        j = int(np.argmax(sim[i]))
        i, j = min(i, j), max(i, j)
        old_i, old_j = sim[:, i].copy(), sim[:, j].copy()
        # Lance–Williams for average linkage: the merged group's mean similarity to every other group.
        merged = (size[i] * sim[i] + size[j] * sim[j]) / (size[i] + size[j])
        merged[[i, j]] = -np.inf
        sim[i, :], sim[:, i] = merged, merged
        sim[j, :], sim[:, j] = -np.inf, -np.inf
        size[i] += size[j]
        members[i] += members[j]
        members[j] = []
        # A group whose closest was i or j looks again; the others can only have come closer to the merged one.
        others = np.isfinite(best)
        others[[i, j]] = False
        again = others & ((old_i >= best) | (old_j >= best))
        best = np.where(others & ~again, np.maximum(best, merged), best)
        for k in np.flatnonzero(again):
            best[k] = sim[k].max()
        best[i], best[j] = sim[i].max(), -np.inf
    groups = [sorted(m) for m in members if m]
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def words(text: str) -> list[str]:
    """The words of a need: jieba's words for Chinese, lower-cased words otherwise, without stopwords."""
    return [w.lower() for w in written_words(text)]


def written_words(text: str) -> list[str]:
    """The same words as written: "PCT" and "R&D" keep their capitals for the reader."""
    out: list[str] = []
    for chunk in _CHUNK.findall(text):
        if _HAN.match(chunk):
            out.extend(w for w in jieba.cut(chunk) if len(w) > 1 and w not in STOPWORDS)
        elif len(chunk) > 2 and chunk.lower() not in STOPWORDS:
            out.append(chunk)
    return out


def _known(word: str) -> bool:
    """Whether a word may name a group: any non-Chinese word, and a Chinese one jieba's dictionary holds. Words it
    made up from unknown characters ("二类医疗器械证要等半年" gives "证要") still count in the grouping, but a label
    made of them reads as nonsense (review 100)."""
    if not _HAN.match(word):
        return True
    jieba.dt.check_initialized()
    return bool(jieba.dt.FREQ.get(word))


def describe(
    vectors: npt.NDArray[np.float32], texts: Sequence[str], groups: list[list[int]], top: int = 4
) -> list[Group]:
    """Each group with its central need first and its most distinctive words (class-based TF-IDF)."""
    written = [[w for i in g for w in written_words(texts[i])] for g in groups]
    counts = [Counter(w.lower() for w in ws) for ws in written]
    # each word shown as it is most often written (an acronym in capitals), counted lower-cased
    forms: dict[str, Counter[str]] = {}
    for w in (w for ws in written for w in ws):
        forms.setdefault(w.lower(), Counter())[w] += 1
    spread = Counter(w for c in counts for w in c)  # in how many groups each word appears
    average = sum(sum(c.values()) for c in counts) / max(1, len(counts))
    out: list[Group] = []
    for group, count in zip(groups, counts, strict=True):
        total = sum(count.values()) or 1
        scored = sorted(
            ((n / total) * math.log(1 + average / spread[w]) * (1 if n > 1 or len(group) == 1 else 0.5), w)
            for w, n in count.items()
            if _known(w)
        )
        best = tuple(forms[w].most_common(1)[0][0] for _score, w in reversed(scored[-top:]))
        centre = vectors[group].mean(axis=0)
        central = max(group, key=lambda i: float(vectors[i] @ centre))
        out.append(Group((central, *(i for i in group if i != central)), best))
    return out
