"""The full-text index of the archive: derived rows, rebuilt at will, hidden behind one selector.

The archive itself is append-only; this index is not. `search_index_update` recomputes the
searchable text of some items from their versions (every version's text and every alt text,
so words an edit removed still find the record), stems it in Python with the Snowball
Swedish stemmer (`snowballstemmer`), and writes the stems to the engine's index:

- PostgreSQL: `SearchEntry.vector = to_tsvector('swedish', body)`, GIN-indexed, queried with
  `SearchQuery(config="swedish")` over the stemmed query words;
- SQLite: the FTS5 table `archive_search_fts` (rowid = item id).

Why stem in Python on PostgreSQL too: its bundled Swedish stemmer is an older Snowball that
keeps "biblioteket" and turns "bibliotekets" into "biblioteket", so a search for
"bibliotekets" would miss "bibliotek". Stemming both the text and the query with the same
current stemmer makes both engines find the same items; the 'swedish' configuration still
drops stop words and applies its own stemmer identically on both sides.

Only `archive.selectors.record_search_for_user` queries the index (through `matching`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from narvaro.archive.models import SearchEntry, VersionMedia

_WORD = re.compile(r"\w+", re.UNICODE)
_CHUNK = 500
# Above this many matches a word counts as common (see `matching`).
COMMON_MATCHES = 2000


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:  # type: ignore[name-defined]
    return snowballstemmer.stemmer("swedish")


def stem_words(text: str) -> list[str]:
    """The Swedish stems of the words of `text`, lower-cased, in order."""
    words = [word.lower() for word in _WORD.findall(text)]
    return _stemmer().stemWords(words) if words else []


def _bodies(item_ids: list[int]) -> dict[int, str]:
    from narvaro.archive.models import ItemVersion

    parts: dict[int, list[str]] = defaultdict(list)
    for item_id, text in ItemVersion.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "text"
    ):
        if text and text not in parts[item_id]:
            parts[item_id].append(text)
    for item_id, alt in VersionMedia.objects.filter(version__item_id__in=item_ids).values_list(
        "version__item_id", "alt_text"
    ):
        if alt and alt not in parts[item_id]:
            parts[item_id].append(alt)
    return {item_id: "\n".join(parts.get(item_id, [])) for item_id in item_ids}


def search_index_update(*, item_ids: Iterable[int]) -> int:
    """Recompute the index rows of `item_ids` from their versions; return how many were written.

    Called by `capture_batch` inside its transaction, so the index never lags the archive.
    """
    ids = sorted(set(item_ids))
    with transaction.atomic():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            bodies = _bodies(chunk)
            SearchEntry.objects.filter(item_id__in=chunk).delete()
            stemmed = {item_id: " ".join(stem_words(body)) for item_id, body in bodies.items()}
            SearchEntry.objects.bulk_create(
                [SearchEntry(item_id=item_id, body=body) for item_id, body in stemmed.items()]
            )
            if connection.vendor == "postgresql":
                SearchEntry.objects.filter(item_id__in=chunk).update(
                    vector=SearchVector("body", config="swedish")
                )
            elif connection.vendor == "sqlite":
                _sqlite_write(stemmed)
    return len(ids)


def _sqlite_write(bodies: dict[int, str]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            "DELETE FROM archive_search_fts WHERE rowid = %s", [(item_id,) for item_id in bodies]
        )
        cursor.executemany(
            "INSERT INTO archive_search_fts (rowid, body) VALUES (%s, %s)",
            list(bodies.items()),
        )


def search_index_rebuild() -> int:
    """Throw the whole index away and build it again from the archive (after a restore)."""
    from narvaro.archive.models import Item

    with transaction.atomic():
        SearchEntry.objects.all().delete()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM archive_search_fts")
        ids = list(Item.objects.order_by("pk").values_list("pk", flat=True))
        return search_index_update(item_ids=ids)


def matching(q: str) -> Q | None:
    """A filter on `Item` for the items whose text matches every word of `q`.

    None when `q` has no words (then nothing is filtered). Words are ANDed; on both engines
    a word matches its Swedish stem.
    """
    if not _WORD.search(q):
        return None
    stems = stem_words(q)
    if connection.vendor == "postgresql":
        query = SearchQuery(" ".join(stems), config="swedish", search_type="plain")
        return Q(search_entry__vector=query)
    # Each stem quoted, so FTS5 syntax in the query (OR, NEAR, *, :) is taken as text.
    expression = " ".join('"' + stem.replace('"', '""') + '"' for stem in stems)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM archive_search_fts WHERE archive_search_fts MATCH %s LIMIT %s",
            [expression, COMMON_MATCHES + 1],
        )
        few = [row[0] for row in cursor.fetchall()]
    if len(few) <= COMMON_MATCHES:
        # A rare word: its matches are few, so filter on them and sort them.
        return Q(pk__in=few)
    # A common word: walk the items newest first (item_newest_idx) and keep those that match,
    # so a page of results costs a page of index probes, not a sort of every match.
    return Q(
        RawSQL(
            "EXISTS (SELECT 1 FROM archive_search_fts WHERE archive_search_fts MATCH %s "
            'AND archive_search_fts.rowid = "archive_item"."id")',
            [expression],
            output_field=BooleanField(),
        )
    )
