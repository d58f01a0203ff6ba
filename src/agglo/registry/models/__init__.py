"""Registry models: regions, industry chains, organizations with their positions and relations, admission."""

from agglo.registry.models.admission import Admission, AdmissionDocument, AdmissionEvent
from agglo.registry.models.chains import Chain, Segment, SegmentLink
from agglo.registry.models.organizations import Organization, Position, Relation
from agglo.registry.models.regions import Region

__all__ = [
    "Admission",
    "AdmissionDocument",
    "AdmissionEvent",
    "Chain",
    "Organization",
    "Position",
    "Region",
    "Relation",
    "Segment",
    "SegmentLink",
]
