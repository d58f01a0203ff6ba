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
    """Organizations sharing one combination of facet values, and how many there are.

    `segment_codes` is filled only for organizations on the chain the user chose (it is "" otherwise), so the
    number of groups stays small while the segment facet of that chain comes from the same pass.
    """

    kind: str
    layer: str
    area: str
    chain_codes: str
    segment_codes: str
    count: int

    @property
    def chains(self) -> list[str]:
        return [c for c in self.chain_codes.split("|") if c]

    @property
    def segments(self) -> list[str]:
        return [c for c in self.segment_codes.split("|") if c]


@dataclass(frozen=True)
class TextQuery:
    """A user's text query: its tokens, the engine's match expression, and how many organizations match it."""

    tokens: tuple[str, ...]
    expression: str
    matches: int  # of any status; cheap to count, used to choose query plans


def text_query(tokens: list[str]) -> TextQuery:
    if connection.vendor == "sqlite":  # every token must match, as a prefix
        expression = " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)
        sql = f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    else:
        expression = " & ".join(t + ":*" for t in tokens)
        sql = f"SELECT count(*) FROM registry_organization WHERE {PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [expression])
        matches = int(cursor.fetchone()[0])
    return TextQuery(tuple(tokens), expression, matches)


def _like(code: str) -> str:
    return f"%|{code}|%"  # codes are slugs; the bars keep "ic" from matching "ic-design"


def text_filter(qs: QuerySet, text: TextQuery) -> QuerySet:
    """`qs` restricted to text matches by an id subquery (safe inside other subqueries)."""
    if connection.vendor == "sqlite":
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    else:
        sql = f"SELECT id FROM registry_organization WHERE {PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    return qs.filter(pk__in=RawSQL(sql, [text.expression]))


def _source(text: TextQuery | None, status: str) -> tuple[str, list[object]]:
    """FROM/WHERE for organizations of `status` matching `text`, in the cheapest shape for this database."""
    if text is None:
        return "registry_organization o WHERE o.status = %s", [status]
    if connection.vendor != "sqlite":
        vector = PG_VECTOR.replace("registry_organization.", "o.")
        where = f"o.status = %s AND {vector} @@ to_tsquery('simple'::regconfig, %s)"
        return f"registry_organization o WHERE {where}", [status, text.expression]
    if text.matches < DRIVE_FROM_INDEX_BELOW:
        # CROSS JOIN keeps the FTS table as the outer loop: only the matching organizations are looked up.
        return (
            f"{FTS_TABLE} f CROSS JOIN registry_organization o ON o.id = f.rowid "
            f"WHERE {FTS_TABLE} MATCH %s AND o.status = %s",
            [text.expression, status],
        )
    return (
        f"registry_organization o WHERE o.status = %s AND o.id IN (SELECT rowid FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH %s)",
        [status, text.expression],
    )


def facet_groups(*, status: str, text: TextQuery | None, chain: str | None) -> list[FacetGroup]:
    """One pass over the matching organizations, grouped by kind, layer, area, chains (and segments of `chain`)."""
    source, params = _source(text, status)
    segments = "''"
    select_params: list[object] = []
    if chain:
        segments = "CASE WHEN o.chain_codes LIKE %s THEN o.segment_codes ELSE '' END"
        select_params = [_like(chain)]
    sql = (
        f"SELECT o.kind, o.layer, o.area_id, o.chain_codes, {segments} AS segs, count(*) FROM {source} "
        "GROUP BY o.kind, o.layer, o.area_id, o.chain_codes, segs"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *params])
        return [FacetGroup(*row) for row in cursor.fetchall()]


def page_ids(
    *, status: str, text: TextQuery, narrow: dict[str, str], total: int, offset: int, limit: int
) -> list[int] | None:
    """Ids of one page of text matches, best first (newest first when too broad), on SQLite; None elsewhere.

    Written as SQL so the FTS table drives the join; `narrow` holds the facet filters (kind, layer, area,
    chain, segment).
    """
    if connection.vendor != "sqlite":
        return None
    source, params = _source(text, status)
    for field, column in (("kind", "o.kind"), ("layer", "o.layer"), ("area", "o.area_id")):
        if narrow.get(field):
            source += f" AND {column} = %s"
            params.append(narrow[field])
    for field, column in (("chain", "o.chain_codes"), ("segment", "o.segment_codes")):
        if narrow.get(field):
            source += f" AND {column} LIKE %s"
            params.append(_like(narrow[field]))
    by_rank = total <= RANK_LIMIT and source.startswith(FTS_TABLE)
    order = "f.rank, o.id" if by_rank else "o.id DESC"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT o.id FROM {source} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset])
        return [row[0] for row in cursor.fetchall()]


def ordered(qs: QuerySet, text: TextQuery, *, total: int) -> QuerySet:
    """PostgreSQL: `qs` (already narrowed by facets) restricted to text matches, best first; newest if too broad."""
    expression = text.expression
    condition = f"{PG_VECTOR} @@ to_tsquery('simple'::regconfig, %s)"
    filtered = qs.extra(where=[condition], params=[expression])
    if total > RANK_LIMIT:
        return filtered.order_by("-id")
    return filtered.extra(
        select={"search_rank": f"ts_rank({PG_VECTOR}, to_tsquery('simple'::regconfig, %s))"},
        select_params=[expression],
    ).order_by("-search_rank", "id")
