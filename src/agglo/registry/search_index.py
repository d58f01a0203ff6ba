"""Full-text search over organizations, on the database's own engine.

SQLite: an FTS5 table `registry_org_fts` (rowid = organization id) holding the jieba tokens, ranked by BM25.
PostgreSQL: a table `registry_org_tsv` (org_id, tsvector of the same tokens) with a GIN index, ranked by ts_rank.
Both index the same tokens (registry.text.index_tokens), so results agree across databases. Both tables are kept
in step by `index_organizations()`, which every service that changes searchable fields calls.
The directory asks here only for the ids that match; facets are counted in memory (registry.facets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection

from agglo.registry.text import index_tokens

FTS_TABLE = "registry_org_fts"
PG_TABLE = "registry_org_tsv"
PG_QUERY = "to_tsquery('simple'::regconfig, %s)"


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
    """Bring the search table up to date for (id, search_text) pairs."""
    batch = list(rows)
    if not batch:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(pk,) for pk, _ in batch])
            cursor.executemany(f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (%s, %s)", batch)
        elif connection.vendor == "postgresql":
            cursor.executemany(
                f"INSERT INTO {PG_TABLE} (org_id, vector) VALUES (%s, to_tsvector('simple'::regconfig, %s)) "
                "ON CONFLICT (org_id) DO UPDATE SET vector = EXCLUDED.vector",
                batch,
            )


def clear() -> None:
    """Empty the search table (after deleting organizations in bulk)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DELETE FROM {PG_TABLE}")


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


@dataclass(frozen=True)
class TextQuery:
    """A user's text query: its tokens, the engine's match expression, and how many organizations match it."""

    tokens: tuple[str, ...]
    expression: str
    matches: int  # of any status; cheap to count, decides whether results are ranked (RANK_LIMIT)


def text_query(tokens: list[str]) -> TextQuery:
    if connection.vendor == "sqlite":  # every token must match, as a prefix
        expression = " AND ".join('"' + t.replace('"', '""') + '"*' for t in tokens)
        sql = f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    else:
        expression = " & ".join(t + ":*" for t in tokens)
        sql = f"SELECT count(*) FROM {PG_TABLE} WHERE vector @@ {PG_QUERY}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [expression])
        matches = int(cursor.fetchone()[0])
    return TextQuery(tuple(tokens), expression, matches)


def match_ids(text: TextQuery) -> npt.NDArray[np.int32]:
    """Ids of the organizations matching `text`: best first when there are at most RANK_LIMIT, else unordered."""
    ranked = text.matches <= RANK_LIMIT
    if connection.vendor == "sqlite":
        order = " ORDER BY rank, rowid" if ranked else ""
        sql, params = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s{order}", [text.expression]
    else:
        order = f" ORDER BY ts_rank(vector, {PG_QUERY}) DESC, org_id" if ranked else ""
        sql = f"SELECT org_id FROM {PG_TABLE} WHERE vector @@ {PG_QUERY}{order}"
        params = [text.expression, text.expression] if ranked else [text.expression]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int32)
