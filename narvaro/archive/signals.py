"""What the archive tells the apps that derive from it.

`items_captured` is sent once a capture batch has been committed, with the account and the ids
of the items and events that batch added. Receivers (the inbox, the radar, moderation) only
*start* work from it, typically by enqueueing a task that reads the archive feed from its own
cursor (`narvaro.archive.feed`), so a missed signal (a crash, a worker restart) loses nothing:
the periodic run of the same task catches up from the cursor.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with: account_id (int), item_ids (list[int]), event_count (int), source (str).
items_captured = Signal()
