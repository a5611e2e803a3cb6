"""The archive as a feed for deriving apps: a signal after commit and a cursor per consumer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from narvaro.archive.feed import feed_backlog, feed_position, feed_process
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.signals import items_captured
from narvaro.archive.tests.support import a_capture, a_deletion
from narvaro.lib.testing import NarvaroTestCase


class FeedTests(NarvaroTestCase):
    def capture(self, *ids: str) -> None:
        capture_batch(account=self.account_a, captures=[a_capture(i) for i in ids], source="test")

    def test_each_consumer_gets_every_item_once_in_capture_order(self) -> None:
        self.capture("1", "2", "3")
        seen: list[str] = []

        def handle(items: QuerySet[Item]) -> None:
            seen.extend(items.values_list("remote_id", flat=True))

        self.assertEqual(feed_process("inbox", handle, chunk=2), 3)
        self.assertEqual(seen, ["1", "2", "3"])
        self.assertEqual(feed_process("inbox", handle), 0)
        self.capture("3", "4")  # 3 again: no new item
        self.assertEqual(feed_backlog("inbox"), 1)
        feed_process("inbox", handle)
        self.assertEqual(seen, ["1", "2", "3", "4"])
        # Another consumer has its own cursor.
        self.assertEqual(feed_position("radar"), 0)
        self.assertEqual(feed_backlog("radar"), 4)

    def test_a_failing_consumer_keeps_its_cursor_and_its_writes_roll_back(self) -> None:
        self.capture("1", "2")

        def handle(items: QuerySet[Item]) -> None:
            raise RuntimeError("consumer broke")

        with self.assertRaises(RuntimeError):
            feed_process("inbox", handle)
        self.assertEqual(feed_position("inbox"), 0)
        self.assertEqual(feed_backlog("inbox"), 2)

    def test_the_signal_names_the_new_items_once_the_batch_is_committed(self) -> None:
        received: list[dict[str, Any]] = []

        def receiver(sender: object, **kwargs: Any) -> None:
            received.append(kwargs)

        items_captured.connect(receiver)
        self.addCleanup(items_captured.disconnect, receiver)
        with self.captureOnCommitCallbacks(execute=True):
            self.capture("1", "2")
        self.assertEqual(len(received), 1)
        self.assertEqual(received[0]["account_id"], self.account_a.pk)
        self.assertEqual(
            sorted(received[0]["item_ids"]),
            sorted(Item.objects.values_list("pk", flat=True)),
        )
        # A repeat adds nothing and says nothing; a new event is announced without items.
        with self.captureOnCommitCallbacks(execute=True):
            self.capture("1", "2")
        self.assertEqual(len(received), 1)
        with self.captureOnCommitCallbacks(execute=True):
            capture_batch(account=self.account_a, events=[a_deletion("1")], source="test")
        self.assertEqual(received[-1]["item_ids"], [])
        self.assertEqual(received[-1]["event_count"], 1)


class FeedTaskEnqueueTests(NarvaroTestCase):
    databases = {"default"}

    def test_a_waiting_run_covers_later_batches_and_a_started_one_does_not(self) -> None:
        from django.test import override_settings
        from django_tasks import task_backends
        from django_tasks_db.models import DBTaskResult

        from narvaro.archive import feed
        from narvaro.inbox.tasks import inbox_derive

        db_backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        with override_settings(TASKS=db_backend):
            task_backends._backends = {}  # type: ignore[attr-defined]
            self.addCleanup(lambda: setattr(task_backends, "_backends", {}))
            feed._waiting.clear()
            for _ in range(5):  # five batches before the worker starts: one run
                feed.feed_task_enqueue(inbox_derive)
            self.assertEqual(DBTaskResult.objects.filter(status="READY").count(), 1)
            DBTaskResult.objects.update(status="RUNNING")  # the worker took it
            feed.feed_task_enqueue(inbox_derive)
            self.assertEqual(DBTaskResult.objects.filter(status="READY").count(), 1)
            self.assertEqual(DBTaskResult.objects.count(), 2)
