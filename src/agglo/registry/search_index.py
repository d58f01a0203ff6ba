"""Full-text search over organizations, on the database's own engine.

SQLite: an FTS5 table `registry_org_fts` (rowid = organization id) holding the jieba tokens, ranked by BM25.
PostgreSQL: a GIN index over to_tsvector('simple', search_text), ranked by ts_rank.
Both index the same tokens (registry.text.index_tokens), so results agree across databases. The SQLite table
is kept in step by `index_organizations()`, which every service that changes searchable fields calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from agglo.registry.text import index_tokens, query_tokens

FTS_TABLE = "registry_org_fts"
PG_VECTOR = "to_tsvector('simple'::regconfig, COALESCE(registry_organization.search_text, ''))"


def place_words(region: object | None) -> str:
    """Names of a region and its parent, so that "深圳" or "Guangdong" finds the members located there."""
    words = []
    while region is not None:
        words += [getattr(region, "name_zh", ""), getattr(region, "name_en", "")]
        region = getattr(region, "parent", None) if getattr(region, "level", "") == "prefecture" else None
    return " ".join(words)


def tokens_for(org: object, place: str = "") -> str:
    """The search tokens of an organization: names, place, tags, description."""
    tags = " ".join(getattr(org, "tags", None) or [])
    return index_tokens(
        getattr(org, "name_zh", ""), getattr(org, "name_en", ""), place, tags, getattr(org, "description", "")
    )


def index_organizations(rows: Iterable[tuple[int, str]]) -> None:
    """Bring the SQLite FTS table up to date for (id, search_text) pairs; PostgreSQL indexes by itself."""
    if connection.vendor != "sqlite":
        return
    batch = list(rows)
    if not batch:
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk, _ in batch])
        cursor.executemany(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (%s, %s)", batch)


def clear() -> None:
    """Empty the SQLite index (after deleting organizations in bulk)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")


def rebuild() -> int:
    """Recompute every organization's tokens and the SQLite index; returns how many were indexed."""
    from agglo.registry.models import Organization

    clear()
    count = 0
    batch: list[Organization] = []
    orgs = Organization.objects.select_related("region__parent").only(
        "id", "name_zh", "name_en", "tags", "description", "region", "region__parent"
    )
    for org in orgs.iterator(2000):
        org.search_text = tokens_for(org, place_words(org.region))
        batch.append(org)
        if len(batch) >= 2000:
            count += _flush(batch)
    return count + _flush(batch)


def _flush(batch: list) -> int:
    from agglo.registry.models import Organization

    Organization.objects.bulk_update(batch, ["search_text"], batch_size=500)
    index_organizations((o.pk, o.search_text) for o in batch)
    n = len(batch)
    batch.clear()
    return n


def apply_text_search(qs: QuerySet, query: str) -> tuple[QuerySet, QuerySet] | None:
    """(filtered, ranked) querysets for a text query, or None when the query has no searchable token.

    `filtered` restricts by an id subquery, so it also works inside other subqueries (counts, facets);
    `ranked` joins the index at the top level to order best match first. Every token must match; a token
    also matches longer tokens it begins (prefix query).
    """
    tokens = query_tokens(query)
    if not tokens:
        return None
    if connection.vendor == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)
        filtered = qs.filter(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match]))
        ranked = qs.extra(
            select={"search_rank": f"{FTS_TABLE}.rank"},
            tables=[FTS_TABLE],
            where=[f"{FTS_TABLE}.rowid = registry_organization.id", f"{FTS_TABLE} MATCH %s"],
            params=[match],
        ).order_by("search_rank", "id")
        return filtered, ranked
    tsquery = " & ".join(t + ":*" for t in tokens)
    condition = f"{PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    filtered = qs.filter(pk__in=RawSQL(f"SELECT id FROM registry_organization WHERE {condition}", [tsquery]))
    ranked = qs.extra(
        select={"search_rank": f"ts_rank({PG_VECTOR}, to_tsquery('simple'::regconfig, %s))"},
        select_params=[tsquery],
        where=[condition],
        params=[tsquery],
    ).order_by("-search_rank", "id")
    return filtered, ranked
