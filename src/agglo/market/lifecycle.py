"""What a need or offer is, and how it moves through its life. Pure: no Django.

Kinds follow the seed's innovation needs (capital, technology, talent, legal) and the platform's exchange side
(equipment, production capacity, market, professional services, financing products). Professional services and
financing products name their type in `subkind`.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    NEED = "need"
    OFFER = "offer"


class Kind(StrEnum):
    CAPITAL = "capital"
    TECHNOLOGY = "technology"
    TALENT = "talent"
    LEGAL = "legal"
    EQUIPMENT = "equipment"
    CAPACITY = "capacity"
    MARKET = "market"
    SERVICE = "service"
    FINANCING = "financing"


SUBKINDS: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICE: (
        "registration",
        "financing",
        "legal",
        "hr",
        "marketing",
        "ip",
        "testing",
        "tech_transfer",
    ),
    Kind.FINANCING: ("loan", "leasing", "bond", "equity"),
}


# Kinds that carry loan terms (融资条件: term, annual rate, collateral): what a capital need asks and what a
# financing product gives.
LOAN_TERM_KINDS = frozenset({Kind.CAPITAL, Kind.FINANCING})


class Collateral(StrEnum):
    """What secures a loan. On a product, what it accepts (`credit`: unsecured, nothing needed); on a need, what
    the firm can give (`credit`: nothing but its credit)."""

    CREDIT = "credit"  # 信用
    GUARANTEE = "guarantee"  # 保证 (a guarantor or guarantee company)
    MORTGAGE = "mortgage"  # 抵押 (property, equipment)
    PLEDGE = "pledge"  # 质押 (IP, receivables, equity)


class Status(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    PUBLISHED = "published"
    EXPIRED = "expired"
    CLOSED = "closed"


class RegionRule(StrEnum):
    ANYWHERE = "anywhere"
    ONLY = "only"
    EXCLUDE = "exclude"


# Which status may follow which, by the action that moves it.
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "submit": (frozenset({Status.DRAFT}), Status.PUBLISHED),
    "submit_for_review": (frozenset({Status.DRAFT}), Status.REVIEW),
    "approve": (frozenset({Status.REVIEW}), Status.PUBLISHED),
    "send_back": (frozenset({Status.REVIEW}), Status.DRAFT),
    "renew": (frozenset({Status.PUBLISHED, Status.EXPIRED}), Status.PUBLISHED),
    "expire": (frozenset({Status.PUBLISHED}), Status.EXPIRED),
    "close": (frozenset({Status.DRAFT, Status.REVIEW, Status.PUBLISHED, Status.EXPIRED}), Status.CLOSED),
}


class TransitionError(ValueError):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} is not possible from {status}")
        self.action = action
        self.status = status


def next_status(action: str, current: str) -> Status:
    """The status after `action` from `current`; TransitionError when the action does not apply."""
    allowed, target = TRANSITIONS[action]
    if Status(current) not in allowed:
        raise TransitionError(action, current)
    return target


def subkind_ok(kind: str, subkind: str) -> bool:
    """Services and financing products must name their type; other kinds have none."""
    options = SUBKINDS.get(Kind(kind), ())
    return subkind in options if options else subkind == ""


def region_allows(rule: str, codes: frozenset[str], candidate_area: str) -> bool:
    """Whether an organization in `candidate_area` (province or country code) passes a listing's region rule."""
    if rule == RegionRule.ONLY:
        return candidate_area in codes
    if rule == RegionRule.EXCLUDE:
        return candidate_area not in codes
    return True


class InterestStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    EVALUATED = "evaluated"
    ACCEPTED = "accepted"
    DECLINED = "declined"


# A response the owner has accepted or declined is final.
DECIDED = frozenset({InterestStatus.ACCEPTED, InterestStatus.DECLINED})
