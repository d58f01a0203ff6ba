"""An inverted index with BM25 weights, held in numpy arrays. Pure: no Django.

Postings are grouped by term; each posting carries its BM25 term-frequency part, computed once at build time
(tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))), so a query only multiplies by the IDF and adds.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

K1 = 1.2
B = 0.75
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]


class Postings:
    """Term → (documents, weights) over documents numbered 0..n−1 in the order given."""

    def __init__(self, docs: Sequence[Sequence[str]], *, avg_length: float | None = None) -> None:
        self.n = len(docs)
        self.term_ids: dict[str, int] = {}
        terms, doc_ids, counts = array("i"), array("i"), array("f")
        lengths = np.zeros(self.n, dtype=np.float32)
        for d, tokens in enumerate(docs):
            lengths[d] = len(tokens)
            for term, count in Counter(tokens).items():
                terms.append(self.term_ids.setdefault(term, len(self.term_ids)))
                doc_ids.append(d)
                counts.append(count)
        self.avg_length = float(avg_length if avg_length is not None else (lengths.mean() if self.n else 1.0)) or 1.0
        term_arr = np.frombuffer(terms, dtype=np.int32) if terms else np.zeros(0, dtype=np.int32)
        order = np.argsort(term_arr, kind="stable")  # documents stay ascending within each term
        self.docs: IntArray = (np.frombuffer(doc_ids, dtype=np.int32) if doc_ids else np.zeros(0, np.int32))[order]
        tf = (np.frombuffer(counts, dtype=np.float32) if counts else np.zeros(0, np.float32))[order]
        norm = K1 * (1 - B + B * lengths[self.docs] / self.avg_length)
        self.weights: FloatArray = (tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        self.df: IntArray = np.bincount(term_arr, minlength=len(self.term_ids)).astype(np.int32)
        self.offsets = np.concatenate(([0], np.cumsum(self.df))).astype(np.int64)

    def doc_freq(self, term: str) -> int:
        tid = self.term_ids.get(term)
        return 0 if tid is None else int(self.df[tid])

    def postings(self, term: str) -> tuple[IntArray, FloatArray] | None:
        tid = self.term_ids.get(term)
        if tid is None:
            return None
        start, end = self.offsets[tid], self.offsets[tid + 1]
        return self.docs[start:end], self.weights[start:end]

    def scores(self, query: Mapping[str, float]) -> FloatArray:
        """BM25 of every document for a query given as term → IDF × query weight."""
        out = np.zeros(self.n, dtype=np.float32)
        for term, factor in query.items():
            found = self.postings(term)
            if found is not None:
                docs, weights = found
                out[docs] += weights * np.float32(factor)
        return out

    def contains(self, term: str, doc: int) -> bool:
        found = self.postings(term)
        if found is None:
            return False
        docs = found[0]
        at = int(np.searchsorted(docs, doc))
        return at < len(docs) and int(docs[at]) == doc


def idf(total_docs: int, doc_freq: int) -> float:
    """BM25's IDF (the Lucene form, never negative)."""
    return math.log(1 + (total_docs - doc_freq + 0.5) / (doc_freq + 0.5))
