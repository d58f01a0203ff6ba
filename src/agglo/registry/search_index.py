"""Full-text search over organizations, on the database's own engine.

SQLite: an FTS5 table `registry_org_fts` (rowid = organization id) holding the jieba tokens, ranked by BM25.
PostgreSQL: a GIN index over to_tsvector('simple', search_text), ranked by ts_rank.
Both index the same tokens (registry.text.index_tokens), so results agree across databases. The SQLite table
is kept in step by `index_organizations()`, which every service that changes searchable fields calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from agglo.registry.text import index_tokens

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


# Above this many matches, BM25 / ts_rank over every match costs more than it tells: such broad queries list the
# newest members first instead (users narrow them with facets).
RANK_LIMIT = 10_000
# Below this many text matches the facet pass is driven from the index; above it, a scan of the covering index
# (organization status, kind, layer, area, chains) with a membership test is cheaper.
DRIVE_FROM_INDEX_BELOW = 20_000


@dataclass(frozen=True)
class FacetGroup:
    """Organizations sharing one combination of facet values, and how many there are."""

    kind: str
    layer: str
    area: str
    chain_codes: str
    count: int

    @property
    def chains(self) -> list[str]:
        return [c for c in self.chain_codes.split("|") if c]


def _match_expression(tokens: list[str]) -> str:
    if connection.vendor == "sqlite":  # every token must match, as a prefix
        return " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)
    return " & ".join(t + ":*" for t in tokens)


def text_match_count(tokens: list[str]) -> int:
    """Organizations (any status) whose tokens match: cheap, used to choose query plans."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [_match_expression(tokens)])
        else:
            cursor.execute(
                f"SELECT count(*) FROM registry_organization WHERE {PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)",
                [_match_expression(tokens)],
            )
        return int(cursor.fetchone()[0])


def text_filter(qs: QuerySet, tokens: list[str]) -> QuerySet:
    """`qs` restricted to text matches by an id subquery (safe inside other subqueries)."""
    if connection.vendor == "sqlite":
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    else:
        sql = f"SELECT id FROM registry_organization WHERE {PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    return qs.filter(pk__in=RawSQL(sql, [_match_expression(tokens)]))


def facet_groups(*, status: str, tokens: list[str] | None, segment_id: int | None) -> list[FacetGroup]:
    """One pass over the matching organizations, grouped by (kind, layer, area, chains)."""
    segment_sql = " AND o.id IN (SELECT organization_id FROM registry_position WHERE segment_id = %s)"
    params: list[object] = [status]
    if tokens and connection.vendor == "sqlite" and text_match_count(tokens) < DRIVE_FROM_INDEX_BELOW:
        # CROSS JOIN keeps the FTS table as the outer loop: look up only the organizations that match.
        sql = (
            f"SELECT o.kind, o.layer, o.area_id, o.chain_codes, count(*) FROM {FTS_TABLE} f "
            f"CROSS JOIN registry_organization o ON o.id = f.rowid WHERE {FTS_TABLE} MATCH %s AND o.status = %s"
        )
        params = [_match_expression(tokens), status]
    else:
        sql = (
            "SELECT o.kind, o.layer, o.area_id, o.chain_codes, count(*) FROM registry_organization o "
            "WHERE o.status = %s"
        )
        if tokens and connection.vendor == "sqlite":
            sql += f" AND o.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
            params.append(_match_expression(tokens))
        elif tokens:
            sql += f" AND {PG_VECTOR.replace('registry_organization.', 'o.')} @@ to_tsquery('simple'::regconfig, %s)"
            params.append(_match_expression(tokens))
    if segment_id is not None:
        sql += segment_sql
        params.append(segment_id)
    sql += " GROUP BY o.kind, o.layer, o.area_id, o.chain_codes"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [FacetGroup(*row) for row in cursor.fetchall()]


def ordered(qs: QuerySet, tokens: list[str], *, matches: int) -> QuerySet:
    """`qs` (already narrowed by facets) restricted to text matches, best match first; newest first if too broad."""
    expression = _match_expression(tokens)
    if connection.vendor == "sqlite":
        joined = qs.extra(
            tables=[FTS_TABLE],
            where=[f"{FTS_TABLE}.rowid = registry_organization.id", f"{FTS_TABLE} MATCH %s"],
            params=[expression],
        )
        if matches > RANK_LIMIT:
            return joined.order_by("-id")
        return joined.extra(select={"search_rank": f"{FTS_TABLE}.rank"}).order_by("search_rank", "id")
    condition = f"{PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    filtered = qs.extra(where=[condition], params=[expression])
    if matches > RANK_LIMIT:
        return filtered.order_by("-id")
    return filtered.extra(
        select={"search_rank": f"ts_rank({PG_VECTOR}, to_tsquery('simple'::regconfig, %s))"},
        select_params=[expression],
    ).order_by("-search_rank", "id")
