"""The matching vocabulary from the platform's reference data: catalogue terms, chain segments, the glossary.
Pure: rows in, concepts out. Codes are prefixed by source so that a segment and a term never collide."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agglo.matching.vocabulary import Concept, concept_phrases

GLOSSARY = Path(__file__).with_name("data") / "glossary.json"


def term_concepts(rows: Iterable[Mapping[str, Any]]) -> list[Concept]:
    """Catalogue terms: {code, name_zh, name_en, synonyms}."""
    return [
        Concept(
            "t." + r["code"],
            r["name_zh"],
            r["name_en"],
            concept_phrases(r["name_zh"], r["name_en"], _synonyms(r.get("synonyms") or "")),
        )
        for r in rows
    ]


def _synonyms(text: str) -> list[str]:
    # "SoC ASIC" names two synonyms, "IEC 61215" and "GB/T 19001" one each: a standard's prefix or number alone
    # names nothing.
    parts = text.split()
    if not parts:
        return []
    if any("/" in part or part.isdigit() for part in parts):
        return [text]
    return [text, *parts]


def segment_concepts(rows: Iterable[Mapping[str, Any]]) -> list[Concept]:
    """Chain segments: {code, name_zh, name_en}."""
    return [
        Concept("s." + r["code"], r["name_zh"], r["name_en"], concept_phrases(r["name_zh"], r["name_en"])) for r in rows
    ]


def glossary_concepts(path: Path = GLOSSARY) -> list[Concept]:
    """The bilingual glossary of industrial terms shipped with the app: [code, zh, "en|en…"]."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    concepts = []
    for code, zh, english in rows:
        names = english.split("|")
        concepts.append(Concept("g." + code, zh, names[0], concept_phrases(zh, names[0], names[1:])))
    return concepts
