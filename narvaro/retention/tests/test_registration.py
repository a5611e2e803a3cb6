"""Registration of records as a case or as secret, secrecy, lifting it, and the export (R13)."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemEvent
from narvaro.archive.selectors import get_item_for_user, record_search_for_user
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.retention import services
from narvaro.retention.models import RegistryEntry


class RegistrationTests(NarvaroTestCase):
    def setUp(self) -> None:
        super().setUp()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("post", "Vi bygger om", kind="post", direction="drawn_up"),
                a_capture("r1", "Min granne ...", thread_remote_id="post", parent_remote_id="post"),
                a_capture("r2", "Jag håller med", thread_remote_id="post", parent_remote_id="post"),
            ],
            source="test",
        )
        self.item = Item.objects.get(remote_id="r1")

    def flag(self, kind: str = "secret", **extra: object) -> RegistryEntry:
        fields: dict[str, object] = {
            "actor": self.rita,
            "item": self.item,
            "kind": kind,
            "received_on": dt.date(2026, 3, 5),
            "sender": "Anna",
            "description": "Uppgifter om en enskilds hälsa",
            "case_number": "SN 2026/41",
            "officer": "Karin Handläggare",
        }
        fields.update(extra)
        return services.registry_flag(**fields)  # type: ignore[arg-type]

    def visible_to_vera(self) -> set[str]:
        return set(record_search_for_user(self.vera).values_list("remote_id", flat=True))

    def test_a_secret_flag_cannot_be_saved_without_a_registry_reference_r13(self) -> None:
        with self.assertRaisesMessage(ValidationError, "give its case number"):
            self.flag(case_number="  ")
        self.assertFalse(RegistryEntry.objects.exists())
        self.assertFalse(ItemEvent.objects.exists())

    def test_the_database_refuses_a_secret_entry_without_a_case_number_r13(self) -> None:
        with self.assertRaises(IntegrityError), transaction.atomic():
            RegistryEntry.objects.create(
                kind="secret",
                item=self.item,
                platform="mastodon",
                thread_key="post",
                received_on=dt.date(2026, 3, 5),
                sender="Anna",
                description="x",
            )

    def test_a_flag_creates_an_entry_and_a_chained_event_r13(self) -> None:
        entry = self.flag(kind="case", case_number="")
        self.assertEqual(
            (entry.received_on, entry.sender, entry.officer, entry.thread_key),
            (dt.date(2026, 3, 5), "Anna", "Karin Handläggare", "post"),
        )
        event = ItemEvent.objects.get(item=self.item)
        self.assertEqual(event.type, ItemEvent.Type.FLAGGED_CASE)
        self.assertEqual(event.details["registry_entry"], entry.pk)
        self.assertEqual(event.actor_name, str(self.rita))
        self.assertTrue(verify_archive().intact)
        self.assertTrue(
            AuditEvent.objects.filter(target_id=str(entry.pk), action="create").exists()
        )

    def test_secret_restricts_the_record_to_registrars_and_lifting_restores_it_r13_r37(
        self,
    ) -> None:
        self.assertIn("r1", self.visible_to_vera())
        entry = self.flag()
        self.assertNotIn("r1", self.visible_to_vera())
        self.assertEqual(self.visible_to_vera(), {"post", "r2"})
        self.assertTrue(get_item_for_user(self.rita, self.item.pk).is_secret)
        services.registry_secrecy_lift(actor=self.rita, entry=entry, reason="Prövat: offentlig")
        self.assertIn("r1", self.visible_to_vera())
        self.assertFalse(get_item_for_user(self.vera, self.item.pk).is_secret)
        # Flagged again later: the latest of flag and lift decides.
        self.flag(case_number="SN 2026/42")
        self.assertNotIn("r1", self.visible_to_vera())
        types = list(ItemEvent.objects.filter(item=self.item).values_list("type", flat=True))
        self.assertEqual(types, ["secret", "secret_lifted", "secret"])
        self.assertTrue(verify_archive().intact)

    def test_a_thread_flag_covers_every_item_of_the_thread(self) -> None:
        self.flag(scope=RegistryEntry.Scope.THREAD)
        self.assertEqual(self.visible_to_vera(), set())
        flagged = ItemEvent.objects.filter(type="secret").values_list("item__remote_id", flat=True)
        self.assertEqual(set(flagged), {"post", "r1", "r2"})

    def test_secrecy_is_lifted_once_and_only_for_secret_entries(self) -> None:
        case = self.flag(kind="case")
        with self.assertRaisesMessage(ValidationError, "Only a secret registration"):
            services.registry_secrecy_lift(actor=self.rita, entry=case, reason="x")
        secret = self.flag(case_number="SN 2026/50")
        services.registry_secrecy_lift(actor=self.rita, entry=secret, reason="Offentlig")
        with self.assertRaisesMessage(ValidationError, "already been lifted"):
            services.registry_secrecy_lift(actor=self.rita, entry=secret, reason="Igen")

    def test_the_export_holds_every_field_and_both_timestamps_and_is_logged_r13_r9(self) -> None:
        entry = self.flag()
        data = json.loads(services.registry_export(actor=self.rita, entries=[entry]))
        self.assertEqual(data["format"], "narvaro-registry/1")
        (exported,) = data["entries"]
        self.assertEqual(
            {k: exported[k] for k in ("kind", "case_number", "received_on", "sender", "officer")},
            {
                "kind": "secret",
                "case_number": "SN 2026/41",
                "received_on": "2026-03-05",
                "sender": "Anna",
                "officer": "Karin Handläggare",
            },
        )
        (item,) = exported["items"]
        self.assertEqual(item["remote_id"], "r1")
        self.assertEqual(item["created_at"], "2026-03-05T16:44:51+00:00")
        self.assertTrue(item["first_seen_at"].endswith("+00:00"))
        log = AuditEvent.objects.get(action="export")
        self.assertEqual(log.changes["entries"], [entry.pk])
