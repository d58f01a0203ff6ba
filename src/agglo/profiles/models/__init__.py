"""The professional database (C3): financial statements, credit ratings, IP, capabilities, case records."""

from agglo.profiles.models.capabilities import CapabilityTerm, OrganizationCapability
from agglo.profiles.models.cases import Case, CaseParticipant, CaseRating
from agglo.profiles.models.credit import CreditRating
from agglo.profiles.models.disclosure import Disclosure
from agglo.profiles.models.facts import Fact, Source
from agglo.profiles.models.finance import FinancialStatement, StatementEvidence
from agglo.profiles.models.imports import ImportRun
from agglo.profiles.models.ip import IPAsset

__all__ = [
    "CapabilityTerm",
    "Case",
    "CaseParticipant",
    "CaseRating",
    "CreditRating",
    "Disclosure",
    "Fact",
    "FinancialStatement",
    "IPAsset",
    "ImportRun",
    "OrganizationCapability",
    "Source",
    "StatementEvidence",
]
