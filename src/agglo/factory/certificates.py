"""The certifications an order may require and a factory declare, and the catalogue term of the professional
database (C3) each is recorded under, so that an order can count only certificates on record."""

from __future__ import annotations

CERTIFICATIONS = ("ISO9001", "ISO14001", "IATF16949", "ISO13485", "AS9100", "CCC", "CE", "UL", "RoHS")
# the professional database's catalogue term (profiles/data/capabilities.json) a certificate of each is recorded as
CERTIFICATE_TERMS = {
    "ISO9001": "iso-9001",
    "ISO14001": "iso-14001",
    "IATF16949": "iatf-16949",
    "ISO13485": "iso-13485",
    "AS9100": "as9100",
    "CCC": "ccc",
    "CE": "ce-marking",
    "UL": "ul",
    "RoHS": "rohs",
}
