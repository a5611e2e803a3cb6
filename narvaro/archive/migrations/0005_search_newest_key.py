"""SQLite: the FTS5 index becomes contentless and is keyed by each item's newest key.

The stemmed text stays in `SearchEntry.body` (on both engines); the FTS5 table only indexes
it, with rowid = `archive.search.newest_key(item id, created_at)`, so FTS5 itself returns
the newest matches first (docs/performance.md). Nothing changes on PostgreSQL.
"""

import datetime as dt

from django.db import migrations

SQLITE_FTS = (
    "CREATE VIRTUAL TABLE archive_search_fts USING fts5("
    "body, content='', columnsize=0, tokenize = 'unicode61 remove_diacritics 0')"
)
OLD_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE archive_search_fts USING fts5("
    "body, tokenize = 'unicode61 remove_diacritics 0')"
)
_EPOCH = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def _key(item_id, created_at):  # noqa: ANN001, ANN202 - a copy of search.newest_key as of now
    if created_at is None:
        second = 0
    else:
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=dt.UTC)
        second = min(max((created_at - _EPOCH) // dt.timedelta(seconds=1) + 1, 1), (1 << 33) - 1)
    return (second << 30) | item_id


def _refill(apps, schema_editor, key):  # noqa: ANN001, ANN202
    entry = apps.get_model("archive", "SearchEntry")
    rows = entry.objects.order_by("item_id").values_list("item_id", "item__created_at", "body")
    batch = []
    with schema_editor.connection.cursor() as cursor:
        for item_id, created_at, body in rows.iterator(chunk_size=2000):
            batch.append((key(item_id, created_at), body))
            if len(batch) == 2000:
                cursor.executemany(
                    "INSERT INTO archive_search_fts (rowid, body) VALUES (%s, %s)", batch
                )
                batch = []
        if batch:
            cursor.executemany(
                "INSERT INTO archive_search_fts (rowid, body) VALUES (%s, %s)", batch
            )


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE IF EXISTS archive_search_fts")
    schema_editor.execute(SQLITE_FTS)
    _refill(apps, schema_editor, _key)


def backwards(apps, schema_editor):  # noqa: ANN001, ANN201
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE IF EXISTS archive_search_fts")
    schema_editor.execute(OLD_SQLITE_FTS)
    _refill(apps, schema_editor, lambda item_id, created_at: item_id)


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0004_item_event_types"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
