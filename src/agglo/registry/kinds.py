"""Kinds of innovation entity and the environment layer each belongs to (seed paper, section 5).

Core environment: the firms themselves. Auxiliary environment: universities, institutes, intermediaries,
associations and financial institutions that support them. External environment: government.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    TECH_SME = "tech_sme"
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    INTERMEDIARY = "intermediary"
    ASSOCIATION = "association"
    BANK = "bank"
    SECURITIES = "securities"
    FUND = "fund"
    LEASING_GUARANTEE = "leasing_guarantee"
    SERVICE_FIRM = "service_firm"
    GOVERNMENT = "government"


class Layer(StrEnum):
    CORE = "core"
    AUXILIARY = "auxiliary"
    EXTERNAL = "external"


LAYER_OF_KIND: dict[Kind, Layer] = {
    Kind.TECH_SME: Layer.CORE,
    Kind.ENTERPRISE: Layer.CORE,
    Kind.UNIVERSITY: Layer.AUXILIARY,
    Kind.RESEARCH_INSTITUTE: Layer.AUXILIARY,
    Kind.INTERMEDIARY: Layer.AUXILIARY,
    Kind.ASSOCIATION: Layer.AUXILIARY,
    Kind.BANK: Layer.AUXILIARY,
    Kind.SECURITIES: Layer.AUXILIARY,
    Kind.FUND: Layer.AUXILIARY,
    Kind.LEASING_GUARANTEE: Layer.AUXILIARY,
    Kind.SERVICE_FIRM: Layer.AUXILIARY,
    Kind.GOVERNMENT: Layer.EXTERNAL,
}

FINANCIAL_KINDS = frozenset({Kind.BANK, Kind.SECURITIES, Kind.FUND, Kind.LEASING_GUARANTEE})


def layer_of(kind: str) -> Layer:
    return LAYER_OF_KIND[Kind(kind)]


class SizeClass(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


def size_class_for(headcount: int) -> SizeClass:
    """Size by headcount, after the 2011 SME thresholds for industry (工信部联企业〔2011〕300号)."""
    if headcount < 20:
        return SizeClass.MICRO
    if headcount < 300:
        return SizeClass.SMALL
    if headcount < 1000:
        return SizeClass.MEDIUM
    return SizeClass.LARGE
