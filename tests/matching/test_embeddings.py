"""The optional encoder shipped inside an installed package: Chinese and English sentences about the same
thing land near each other."""

import numpy as np
import pytest

from agglo.matching import embeddings


def test_use_m3_is_multilingual_and_normalised():
    model = embeddings.load("use-m3")
    vectors = model.encode(
        [
            "寻找不锈钢阀门铸件供应商",
            "Corrosion-resistant valve castings from our stainless steel foundry",
            "Cell therapy clinical services",
        ]
    )
    assert vectors.shape == (3, 512) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
    assert vectors[0] @ vectors[1] > 0.4 > vectors[0] @ vectors[2]


def test_no_model_or_an_unknown_one():
    assert embeddings.load("") is None
    with pytest.raises(embeddings.UnknownModel, match="use-m3"):
        embeddings.load("bert-from-the-internet")
