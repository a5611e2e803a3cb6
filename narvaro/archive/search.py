"""The full-text index of the archive: derived rows, rebuilt at will, hidden behind one selector.

The archive itself is append-only; this index is not. `search_index_update` recomputes the
searchable text of some items from their versions (every version's text and every alt text,
so words an edit removed still find the record), stems it in Python with the Snowball
Swedish stemmer (`snowballstemmer`, backed by PyStemmer), and writes the stems to
`SearchEntry.body` and to the engine's index:

- PostgreSQL: `SearchEntry.vector = to_tsvector('swedish', body)`, GIN-indexed, queried with
  `SearchQuery(config="swedish")` over the stemmed query words;
- SQLite: the contentless FTS5 table `archive_search_fts`, whose rowid is the item's
  *newest key* (`newest_key`): the second of its `created_at` in the high bits, the item id
  in the low 30 bits. FTS5 returns matches in rowid order, so "newest first" is a walk of
  the index from its end that stops after one page, whatever the number of matches
  (`SearchWindow`, used by `matching`).

`capture_batch` calls `search_index_add` with the texts it has just stored, so an import
does not read them back; an item that gained a version is recomputed from its versions.

Why stem in Python on PostgreSQL too: its bundled Swedish stemmer is an older Snowball that
keeps "biblioteket" and turns "bibliotekets" into "biblioteket", so a search for
"bibliotekets" would miss "bibliotek". Stemming both the text and the query with the same
current stemmer makes both engines find the same items; the 'swedish' configuration still
drops stop words and applies its own stemmer identically on both sides.

Only `archive.selectors.record_search_for_user` queries the index (through `matching`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import snowballstemmer
from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import BooleanField, Expression

from narvaro.archive.models import SearchEntry, VersionMedia

_WORD = re.compile(r"\w+", re.UNICODE)
_CHUNK = 500
FTS_TABLE = "archive_search_fts"

# The newest key: (second of created_at since 1900, counted from 1; 0 when unknown) << 30 | id.
KEY_ID_BITS = 30
_ID_MASK = (1 << KEY_ID_BITS) - 1
_KEY_EPOCH = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_KEY_LAST_SECOND = (1 << 33) - 1
_ONE_SECOND = dt.timedelta(seconds=1)


def newest_key(item_id: int, created_at: dt.datetime | None) -> int:
    """The FTS5 rowid of an item: ordered like (created_at, id) to the whole second.

    Items created in the same second (and those with no `created_at`, which sort last
    newest first, as SQLite sorts NULL) share the high bits and are told apart by their id;
    `SearchWindow` puts such a group in exact (created_at, id) order. Times outside
    1900–2172 are clamped to its ends, which only makes their group larger.
    """
    if not 0 < item_id <= _ID_MASK:
        raise ValueError(f"item id {item_id} does not fit the search key ({KEY_ID_BITS} bits)")
    if created_at is None:
        second = 0
    else:
        if created_at.tzinfo is None:  # stored as UTC, as the database backend does
            created_at = created_at.replace(tzinfo=dt.UTC)
        second = min(max((created_at - _KEY_EPOCH) // _ONE_SECOND + 1, 1), _KEY_LAST_SECOND)
    return (second << KEY_ID_BITS) | item_id


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:  # type: ignore[name-defined]
    return snowballstemmer.stemmer("swedish")


# Each distinct word is stemmed once: an archive repeats a small vocabulary endlessly.
_STEMS: dict[str, str] = {}
_STEMS_MAX = 200_000


def stem_words(text: str) -> list[str]:
    """The Swedish stems of the words of `text`, lower-cased, in order."""
    words = _WORD.findall(text)
    try:
        return list(map(_STEMS.__getitem__, words))
    except KeyError:
        pass
    if len(_STEMS) > _STEMS_MAX:
        _STEMS.clear()
    stemmer = _stemmer()
    stems = []
    for word in words:
        stem = _STEMS.get(word)
        if stem is None:
            stem = _STEMS[word] = stemmer.stemWord(word.lower())
        stems.append(stem)
    return stems


# The stems of each whitespace-separated token, each followed by a space ("" for a token
# without a word, such as "–"). A word never spans white space, so the words of a text are
# those of its tokens in order, and a text's stems are its tokens' stems: one split and one
# dictionary look-up per token instead of a regular-expression scan and a look-up per word.
_TOKEN_STEMS: dict[str, str] = {}


def stemmed(text: str) -> str:
    """`" ".join(stem_words(text))`: the stems of the words of `text`, space-separated."""
    tokens = text.split()
    try:
        return "".join(map(_TOKEN_STEMS.__getitem__, tokens))[:-1]
    except KeyError:
        pass
    if len(_TOKEN_STEMS) > _STEMS_MAX:
        _TOKEN_STEMS.clear()
    parts = []
    for token in tokens:
        stems = _TOKEN_STEMS.get(token)
        if stems is None:
            words = stem_words(token)
            stems = _TOKEN_STEMS[token] = " ".join(words) + " " if words else ""
        parts.append(stems)
    return "".join(parts)[:-1]


def searchable_body(texts: Iterable[str | None]) -> str:
    """What the index holds for an item: the stems of each distinct non-empty text."""
    seen: list[str] = []
    for text in texts:
        if text and text not in seen:
            seen.append(text)
    return stemmed(seen[0]) if len(seen) == 1 else stemmed("\n".join(seen))


def _texts(item_ids: list[int]) -> dict[int, list[str | None]]:
    from narvaro.archive.models import ItemVersion

    parts: dict[int, list[str | None]] = defaultdict(list)
    for item_id, text in (
        ItemVersion.objects.filter(item_id__in=item_ids)
        .order_by("item_id", "number")
        .values_list("item_id", "text")
    ):
        parts[item_id].append(text)
    for item_id, alt in (
        VersionMedia.objects.filter(version__item_id__in=item_ids)
        .order_by("version__item_id", "version__number", "position")
        .values_list("version__item_id", "alt_text")
    ):
        parts[item_id].append(alt)
    return parts


def search_index_update(*, item_ids: Iterable[int]) -> int:
    """Recompute the index rows of `item_ids` from their versions; return how many were written.

    For items whose texts changed after they were indexed (a new version, a disposal);
    `capture_batch` indexes new items with `search_index_add` instead.
    """
    from narvaro.archive.models import Item

    ids = sorted(set(item_ids))
    with transaction.atomic():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            texts = _texts(chunk)
            created = dict(Item.objects.filter(pk__in=chunk).values_list("pk", "created_at"))
            _write(
                [(item_id, created[item_id], searchable_body(texts[item_id])) for item_id in chunk],
                replace=True,
            )
    return len(ids)


def search_index_add(
    entries: Sequence[tuple[int, dt.datetime | None, Sequence[str | None]]],
) -> None:
    """Index items that have no index row yet: (item id, created_at, their texts)."""
    _write(
        [(item_id, created, searchable_body(texts)) for item_id, created, texts in entries],
        replace=False,
    )


def _write(rows: list[tuple[int, dt.datetime | None, str]], *, replace: bool) -> None:
    """Store index rows (item id, created_at, stemmed body), replacing earlier ones if asked."""
    if not rows:
        return
    ops = connection.ops
    table = ops.quote_name(SearchEntry._meta.db_table)
    with connection.cursor() as cursor:
        if replace:
            marks = ", ".join(["%s"] * len(rows))
            ids = [item_id for item_id, _, _ in rows]
            if connection.vendor == "sqlite":
                # A contentless FTS5 table forgets a row when told the text it indexed.
                cursor.execute(
                    f"SELECT item_id, body FROM {table} WHERE item_id IN ({marks})",  # noqa: S608
                    ids,
                )
                old = dict(cursor.fetchall())
                created = {item_id: created_at for item_id, created_at, _ in rows}
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, body) "  # noqa: S608
                    "VALUES ('delete', %s, %s)",
                    [(newest_key(i, created[i]), body) for i, body in old.items()],
                )
            cursor.execute(f"DELETE FROM {table} WHERE item_id IN ({marks})", ids)  # noqa: S608
        if connection.vendor == "postgresql":
            cursor.executemany(
                f"INSERT INTO {table} (item_id, body, vector) "  # noqa: S608
                "VALUES (%s, %s, to_tsvector('swedish'::regconfig, %s))",
                [(item_id, body, body) for item_id, _, body in rows],
            )
            return
        cursor.executemany(
            f"INSERT INTO {table} (item_id, body) VALUES (%s, %s)",  # noqa: S608
            [(item_id, body) for item_id, _, body in rows],
        )
        if connection.vendor == "sqlite":
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, body) VALUES (%s, %s)",  # noqa: S608
                [(newest_key(item_id, created), body) for item_id, created, body in rows],
            )


def search_index_rebuild() -> int:
    """Throw the whole index away and build it again from the archive (after a restore)."""
    from narvaro.archive.models import Item

    with transaction.atomic():
        SearchEntry.objects.all().delete()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")  # noqa: S608
        ids = list(Item.objects.order_by("pk").values_list("pk", flat=True))
        return search_index_update(item_ids=ids)


def _fts_expression(stems: list[str]) -> str:
    # Each stem quoted, so FTS5 syntax in the query (OR, NEAR, *, :) is taken as text.
    return " ".join('"' + stem.replace('"', '""') + '"' for stem in stems)


class SearchWindow(Expression):
    """`archive_item.id IN (…)`: the items that match, read from FTS5 newest first.

    Compiled late, when the query's slice is known: for `[low:high]` in the selector's order
    (newest first) it asks FTS5 for the `high`-th newest match that passes the query's other
    filters, walking the index from its end (rowid order is `newest_key` order), and keeps
    every match from that match's second on; the outer query then sorts those few rows
    exactly by (created_at, id). A query without an upper bound (a count, an export) gets
    every match. So a page costs about one page of index steps, not a sort of all matches.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, expression: str, filtered: Any) -> None:
        super().__init__()
        self.expression = expression
        # The same items with the same filters, joined to FTS5 and ordered by its rowid.
        # (`extra` because the ORM cannot join a virtual table; only constants are spliced.)
        self.matches = (
            filtered.order_by()
            .extra(  # noqa: S610
                tables=[FTS_TABLE],
                where=[
                    f"{FTS_TABLE} MATCH %s",
                    f'"archive_item"."id" = ({FTS_TABLE}.rowid & {_ID_MASK})',
                ],
                params=[expression],
                select={"search_key": f"{FTS_TABLE}.rowid"},
            )
            .extra(order_by=["-search_key"])
        )

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        query = compiler.query
        newest_first = query.standard_ordering and tuple(query.order_by) == NEWEST_FIRST
        high = query.high_mark if newest_first else None
        candidates = self.matches.order_by().values("pk")
        if high is not None and high > 0:
            last = self.matches.values("search_key")[high - 1 : high]
            last_sql, last_params = last.query.get_compiler(connection=connection).as_sql()
            candidates = candidates.extra(  # noqa: S610
                where=[
                    f"{FTS_TABLE}.rowid >= "
                    f"((COALESCE(({last_sql}), 0) >> {KEY_ID_BITS}) << {KEY_ID_BITS})"
                ],
                params=list(last_params),
            )
        sql, params = candidates.query.get_compiler(connection=connection).as_sql()
        return f'"archive_item"."id" IN ({sql})', list(params)


NEWEST_FIRST = ("-created_at", "-id")


def matching(q: str, items: Any) -> Any:
    """`items` (an `Item` queryset, filtered) narrowed to those matching every word of `q`.

    Unchanged when `q` has no words. Words are ANDed; on both engines a word matches its
    Swedish stem. Apply it after every other filter: on SQLite it reads the index newest
    first and checks those filters as it goes (see `SearchWindow`).
    """
    if not _WORD.search(q):
        return items
    stems = stem_words(q)
    if connection.vendor == "postgresql":
        query = SearchQuery(" ".join(stems), config="swedish", search_type="plain")
        return items.filter(search_entry__vector=query)
    return items.filter(SearchWindow(_fts_expression(stems), items))
