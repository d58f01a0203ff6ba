"""Text analysis for matching: jieba for Chinese, words for English, and a bilingual concept vocabulary.

The vocabulary is the platform's own: chain segments, catalogue terms (with their synonyms) and a glossary of
industrial terms. A phrase of the vocabulary in either language also yields the concept's token (`c:<code>`), so a
need written in Chinese meets an offer written in English when both name the same thing. Pure: no Django.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jieba

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"\w+", re.UNICODE)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CHUNK = re.compile(r"[\u4e00-\u9fff]+|[^\W\u4e00-\u9fff]+", re.UNICODE)
_PAREN = re.compile(r"[(（]([^)）]*)[)）]")
CONCEPT_PREFIX = "c:"
MAX_PHRASE_WORDS = 4
# Words too common in listings to tell one from another: function words, and the generic words of listing
# boilerplate ("提供专业服务", "leading solutions") that a small market's IDF does not yet discount.
FUNCTION_WORDS = (
    "the and of for with a an to in on at by or from our we us is are be can as that this your you "
    "的 和 与 及 等 或 在 为 了 是 有 我们 我司 公司 提供 需要 寻求 一个 进行 相关 以及 可以 具有"
)
BOILERPLATE = (
    "service services solution solutions cooperation capability capabilities professional leading experience "
    "team customer customers project partner partners looking "
    "服务 解决方案 方案 合作 能力 专业 行业 领先 经验 团队 客户 项目 优质 快速 长期 稳定 资源 平台 伙伴 合作伙伴"
)
STOPWORDS = frozenset((FUNCTION_WORDS + " " + BOILERPLATE).split())


@dataclass(frozen=True)
class Concept:
    """One thing of the vocabulary with its labels and the phrases that name it, in both languages."""

    code: str
    label_zh: str
    label_en: str
    phrases: tuple[str, ...]

    @property
    def token(self) -> str:
        return CONCEPT_PREFIX + self.code


def concept_phrases(name_zh: str, name_en: str, synonyms: Iterable[str] = ()) -> tuple[str, ...]:
    """Phrases naming a concept: both names, their parenthesised parts (acronyms) and the names without them,
    and the synonyms; lower-cased and deduplicated."""
    found: dict[str, None] = {}
    for name in (name_zh, name_en, *synonyms):
        name = name.strip()
        if not name:
            continue
        found.setdefault(name.lower(), None)
        for inner in _PAREN.findall(name):
            for part in re.split(r"[/、,，]", inner):
                if part.strip():
                    found.setdefault(part.strip().lower(), None)
        bare = _PAREN.sub("", name).strip()
        if bare:
            found.setdefault(bare.lower(), None)
    return tuple(p for p in found if _WORD.search(p))


class Analyzer:
    """Turns texts into tokens: words (jieba search mode for Chinese, so a long word also gives its parts)
    plus the tokens of the concepts the text names."""

    def __init__(self, concepts: Sequence[Concept] = ()) -> None:
        self.concepts = {c.token: c for c in concepts}
        self._jieba = jieba.Tokenizer()
        self._zh: dict[str, str] = {}
        self._en: dict[tuple[str, ...], str] = {}
        self._zh_prefixes: set[str] = set()
        self._en_first: set[str] = set()
        for concept in concepts:
            for phrase in concept.phrases:
                words = self._plain_words(phrase)
                if not words:
                    continue
                if _HAN.search(phrase):
                    for chunk in _CHUNK.findall(phrase):
                        if _HAN.search(chunk) and len(chunk) >= 2:
                            self._jieba.add_word(chunk, freq=200_000)
                    # A Chinese phrase is matched on its concatenated words, whatever jieba makes of its parts.
                    joined = "".join(words)
                    self._zh[joined] = concept.token
                    self._zh_prefixes.update(joined[:k] for k in range(1, len(joined) + 1))
                elif len(words) <= MAX_PHRASE_WORDS:
                    self._en[tuple(words)] = concept.token
                    self._en_first.add(words[0])

    def _plain_words(self, text: str) -> list[str]:
        return list(_WORD.findall(text.lower()))

    def _chunks(self, text: str) -> Iterable[tuple[bool, list[str]]]:
        for chunk in _CHUNK.findall(text.lower()):
            if _HAN.search(chunk):
                yield True, list(self._jieba.cut(chunk, HMM=False))
            else:
                yield False, _WORD.findall(chunk)

    def tokens(self, *texts: str | None, query: bool = False) -> list[str]:
        """All tokens of the texts in order, repeats kept (BM25 counts them); each concept once per text.
        For a query, a concept replaces the words that name it, so that a listing naming the concept in the
        other language scores as high as one repeating the query's words."""
        out: list[str] = []
        for text in texts:
            if not text:
                continue
            # Concept phrases may cross chunk borders ("ISO 9001 质量管理体系"), so they are looked up over the
            # sequence of every word the text holds.
            words: list[tuple[str, bool]] = [
                (word, is_han) for is_han, chunk in self._chunks(text) for word in chunk if _WORD.fullmatch(word)
            ]
            concepts, covered = self._concepts_in([w for w, _ in words])
            for at, (word, is_han) in enumerate(words):
                if query and at in covered:
                    continue
                if is_han:
                    # The index holds a long word's parts too (search mode), so the query keeps words whole.
                    out.extend(self._han_parts(word, whole_only=query))
                elif word not in STOPWORDS and not (word.isascii() and word.isdigit()):
                    # a bare number ("5 m²", "ISO class 5") is no evidence of a match: numbers that name something
                    # (ISO 9001) are concepts, found above
                    out.append(word)
            out.extend(concepts)
        # Interned: an index holds the same few thousand words millions of times.
        return [sys.intern(token) for token in out]

    def _han_parts(self, word: str, *, whole_only: bool = False) -> list[str]:
        parts = [word] if len(word) > 1 and word not in STOPWORDS else []
        if len(word) > 2 and not whole_only:
            # jieba's search mode: the dictionary words inside a long word.
            for size in (2, 3):
                for i in range(len(word) - size + 1):
                    gram = word[i : i + size]
                    if self._jieba.FREQ.get(gram) and gram not in STOPWORDS:
                        parts.append(gram)
        return parts

    def _concepts_in(self, words: Sequence[str]) -> tuple[list[str], set[int]]:
        """The concepts named in a word sequence (each once, in order) and the positions of the words naming them."""
        found: dict[str, None] = {}
        covered: set[int] = set()
        n = len(words)
        for i in range(n):
            joined = ""
            for j in range(i, n):
                joined += words[j]
                if joined not in self._zh_prefixes:
                    break
                token = self._zh.get(joined)
                if token:
                    found.setdefault(token, None)
                    covered.update(range(i, j + 1))
            if words[i] not in self._en_first:
                continue
            for size in range(1, min(MAX_PHRASE_WORDS, n - i) + 1):
                token = self._en.get(tuple(words[i : i + size]))
                if token:
                    found.setdefault(token, None)
                    covered.update(range(i, i + size))
        return list(found), covered

    def label(self, token: str, *, chinese: bool) -> str:
        """How a token reads in an explanation: a concept by its label, a word as itself."""
        concept = self.concepts.get(token)
        if concept is None:
            return token
        return (concept.label_zh or concept.label_en) if chinese else (concept.label_en or concept.label_zh)


def plain_tokens(*texts: str | None) -> list[str]:
    """Tokens without the vocabulary (jieba's default dictionary, search mode): what a plain BM25 search sees."""
    out: list[str] = []
    for text in texts:
        if not text:
            continue
        for chunk in _CHUNK.findall(text.lower()):
            if _HAN.search(chunk):
                out.extend(w for w in jieba.cut_for_search(chunk) if _WORD.fullmatch(w) and w not in STOPWORDS)
            else:
                out.extend(w for w in _WORD.findall(chunk) if w not in STOPWORDS)
    return out
