"""`narvaro records search`: the register from the command line, logged as an export."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError

from narvaro.archive.capture import EventInput
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase


class RecordsSearchCommandTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        capture_batch(
            account=cls.account_a,
            captures=[
                a_capture("a1", "Nytt bibliotek i stan."),
                a_capture("a2", "Hemligt om biblioteket."),
                a_capture(
                    "a3",
                    "Öppet i kväll",
                    kind="post",
                    direction="drawn_up",
                    created_at=dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC),
                ),
            ],
            events=[EventInput(platform="mastodon", remote_id="a2", type="secret")],
            source="test",
        )
        capture_batch(
            account=cls.account_b, captures=[a_capture("b1", "Biblioteket i parken")], source="t"
        )

    def run_search(self, *args: str) -> str:
        out = StringIO()
        call_command("records", "search", *args, stdout=out)
        return out.getvalue()

    def test_json_lists_every_match_with_both_timestamps_and_time_zone(self) -> None:
        rows = json.loads(self.run_search("bibliotekets", "--json"))
        # Registrar rights: every unit, the secret item included.
        self.assertEqual({row["remote_id"] for row in rows}, {"a1", "a2", "b1"})
        row = next(row for row in rows if row["remote_id"] == "a1")
        self.assertEqual(
            set(row),
            {
                "platform",
                "remote_id",
                "account",
                "kind",
                "direction",
                "author",
                "created_at",
                "first_seen_at",
                "text",
                "permalink",
                "url",
            },
        )
        self.assertEqual(row["created_at"], "2026-03-05T16:44:51+00:00")
        self.assertTrue(row["first_seen_at"].endswith("+00:00"))
        self.assertEqual(row["account"], f"mastodon:{self.account_a.handle}")
        self.assertEqual(row["url"], f"/records/{row['url'].split('/')[2]}/")

    def test_filters_by_unit_account_direction_and_dates(self) -> None:
        def ids(*args: str) -> set[str]:
            return {row["remote_id"] for row in json.loads(self.run_search(*args, "--json"))}

        self.assertEqual(ids("--unit", "gata-park"), {"b1"})
        self.assertEqual(ids("--account", f"mastodon:{self.account_b.handle}"), {"b1"})
        self.assertEqual(ids("--direction", "drawn_up"), {"a3"})
        self.assertEqual(ids("--from", "2026-04-01", "--to", "2026-04-30"), {"a3"})
        self.assertEqual(ids("--author", "anna", "--kind", "comment"), {"a1", "a2", "b1"})

    def test_every_search_is_logged_as_an_export(self) -> None:
        self.run_search("bibliotek", "--unit", "kultur")
        event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
        self.assertEqual(event.changes["items"], 2)
        self.assertEqual(event.changes["filters"]["q"], "bibliotek")
        self.assertEqual(event.changes["via"], "command line")

    def test_text_output_ends_with_the_count(self) -> None:
        self.assertTrue(self.run_search("parken").rstrip().endswith("1 item(s)"))

    def test_unknown_unit_account_or_date_is_refused(self) -> None:
        with self.assertRaisesMessage(CommandError, "no unit with the short name 'nope'"):
            self.run_search("--unit", "nope")
        with self.assertRaisesMessage(CommandError, "no account 'mastodon:@x'"):
            self.run_search("--account", "mastodon:@x")
        with self.assertRaisesMessage(CommandError, "not a date"):
            self.run_search("--from", "March")
