"""Moderation decisions: refusals, what the archive keeps, restriction, escalation, the queue."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from narvaro.archive.fixity import verify_archive
from narvaro.archive.models import Item, ItemEvent
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import (
    READING_ROOM_PNG,
    TWEET_PNG,
    a_capture,
    a_png,
    an_image,
)
from narvaro.channels import services as channel_services
from narvaro.core.models import AuditEvent
from narvaro.moderation import services
from narvaro.moderation.models import (
    EscalationTask,
    ModerationAction,
    QueueEntry,
    Reason,
)
from narvaro.moderation.tests.support import ModerationTestCase


class RefusalTests(ModerationTestCase):
    def test_moderation_without_a_reason_is_refused(self) -> None:
        item = self.inbound()
        with self.assertRaises(ValidationError) as caught:
            services.moderation_act(
                actor=self.max, item=item, action="hide", reason="", reason_text="", by_hand=True
            )
        self.assertEqual(set(caught.exception.message_dict), {"reason", "reason_text"})
        with self.assertRaisesMessage(ValidationError, "the reason is required"):
            services.moderation_act(
                actor=self.max,
                item=item,
                action="hide",
                reason=Reason.SPAM,
                reason_text="   ",
                by_hand=True,
            )
        self.assertFalse(ModerationAction.objects.exists())
        self.assertFalse(ItemEvent.objects.filter(item=item).exists())

    def test_an_item_not_yet_captured_is_refused(self) -> None:
        stub = Item.objects.create(
            account=self.account_a,
            platform="mastodon",
            remote_id="not-captured",
            kind="comment",
            direction="received",
        )
        with self.assertRaisesMessage(ValidationError, "not captured in the archive yet"):
            services.moderation_act(
                actor=self.max,
                item=stub,
                action="hide",
                reason=Reason.SPAM,
                reason_text="Reklam",
                by_hand=True,
            )

    def test_our_own_posts_are_not_moderated(self) -> None:
        item = self.inbound(direction="drawn_up")
        with self.assertRaisesMessage(ValidationError, "not our own posts"):
            services.moderation_act(
                actor=self.max,
                item=item,
                action="delete",
                reason=Reason.OFF_TOPIC,
                reason_text="x",
                by_hand=True,
            )

    def test_without_a_connection_it_must_be_done_by_hand(self) -> None:
        item = self.inbound()
        with self.assertRaisesMessage(ValidationError, "no live connection"):
            services.moderation_act(
                actor=self.max, item=item, action="hide", reason=Reason.SPAM, reason_text="x"
            )

    def test_a_policy_reason_needs_a_policy_in_force(self) -> None:
        channel_services.account_update(
            actor=None, account=self.account_a, comment_policy_version=None
        )
        item = self.inbound()
        with self.assertRaisesMessage(ValidationError, "no comment policy"):
            services.moderation_act(
                actor=self.max,
                item=item,
                action="hide",
                reason=Reason.OFF_TOPIC,
                reason_text="Handlar om fotboll",
                by_hand=True,
            )
        # A legal reason applies without any policy.
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.THREAT,
            reason_text="Hotar personalen",
            by_hand=True,
        )
        self.assertIsNone(record.policy_version)

    def test_the_default_action_for_every_reason_is_hide(self) -> None:
        for reason in Reason:
            self.assertEqual(services.default_action(reason), "hide")


class HideByHandTests(ModerationTestCase):
    def test_a_hidden_item_stays_in_the_archive_with_the_event(self) -> None:
        item = self.inbound(text="Köp billiga klockor på example.com")
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.SPAM,
            reason_text="Reklam för klockor",
            by_hand=True,
        )
        self.assertEqual(record.status, ModerationAction.Status.BY_HAND)
        self.assertEqual(record.policy_version, self.account_a.comment_policy_version)
        self.assertTrue(Item.objects.filter(pk=item.pk).exists())
        self.assertEqual(item.versions.get().text, "Köp billiga klockor på example.com")
        event = ItemEvent.objects.get(item=item)
        self.assertEqual(event.type, ItemEvent.Type.HIDDEN)
        self.assertEqual(record.item_event, event)
        self.assertEqual(event.details["reason"], "spam")
        self.assertEqual(event.details["reason_text"], "Reklam för klockor")
        self.assertTrue(event.details["by_hand"])
        self.assertEqual(event.details["policy_version"]["number"], 1)
        self.assertEqual(event.actor_name, str(self.max))
        # `narvaro verify` still passes: the event is chained like every other.
        self.assertTrue(verify_archive().intact)
        out = io.StringIO()
        call_command("verify", "--json", stdout=out)  # exits 1 on any broken chain
        self.assertEqual(json.loads(out.getvalue())["problems"], [])
        # The rendering was stored by its digest.
        with default_storage.open(record.rendering_name, "rb") as handle:
            pdf = handle.read()
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(hashlib.sha256(pdf).hexdigest(), record.rendering_sha256)
        entry = QueueEntry.objects.get(item=item)
        self.assertEqual(entry.outcome, QueueEntry.Outcome.MODERATED)
        self.assertEqual(entry.reviewed_by, self.max)
        audit = AuditEvent.objects.get(target_type="moderation.moderationaction")
        self.assertEqual(audit.changes["reason"], [None, "spam"])
        self.assertEqual(audit.actor, self.max)

    def test_a_block_leaves_one_blocked_event_on_the_item_with_its_reason(self) -> None:
        import datetime as dt

        item = self.inbound()
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="block",
            reason=Reason.HARASSMENT,
            reason_text="Upprepade trakasserier",
            by_hand=True,
            block_until=dt.date(2027, 1, 1),
        )
        self.assertEqual(record.block_until, dt.date(2027, 1, 1))
        # The block concerns the author, but the item's record shows it was the cause.
        event = ItemEvent.objects.get(item=item)
        self.assertEqual(event.type, ItemEvent.Type.BLOCKED)
        self.assertEqual(record.item_event, event)
        self.assertEqual(event.details["moderation_action"], record.pk)
        self.assertEqual(event.details["reason"], "harassment")
        self.assertEqual(event.details["reason_text"], "Upprepade trakasserier")
        self.assertEqual(event.details["policy_version"]["number"], 1)
        self.assertEqual(event.details["block_until"], "2027-01-01")
        self.assertEqual(event.actor_name, str(self.max))
        self.assertEqual(QueueEntry.objects.get(item=item).outcome, "moderated")
        self.assertTrue(verify_archive().intact)
        # The archive's record page names it.
        page = self.client_for(self.alice).get(reverse("archive:record_detail", args=[item.pk]))
        self.assertContains(page, "Author blocked")

    def test_a_hide_has_no_block_expiry_in_its_event(self) -> None:
        item = self.inbound()
        services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.SPAM,
            reason_text="Reklam",
            by_hand=True,
        )
        self.assertNotIn("block_until", ItemEvent.objects.get(item=item).details)


class RestrictedTests(ModerationTestCase):
    def test_csam_rendering_has_no_media_and_no_text(self) -> None:
        png = bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
            "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
        )
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    "666",
                    text="Olagligt innehåll",
                    media=(an_image("x.png", content=png, alt="bild"),),
                )
            ],
            source="test",
        )
        item = Item.objects.get(remote_id="666")
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.CSAM,
            reason_text="Sexuella övergrepp på barn",
            by_hand=True,
        )
        self.assertTrue(record.restricted)
        # The archive writer had already stored the image: recorded for the records officer.
        self.assertTrue(record.archive_holds_media)
        with default_storage.open(record.rendering_name, "rb") as handle:
            pdf = handle.read()
        self.assertNotIn(b"/Subtype /Image", pdf)
        self.assertNotIn(b"/Image", pdf)
        task = EscalationTask.objects.get(action=record)
        self.assertNotIn("Olagligt innehåll", task.police_report)
        bundle = zipfile.ZipFile(io.BytesIO(default_storage.open(task.bundle_name).read()))
        self.assertNotIn("Olagligt innehåll", bundle.read("item.json").decode())
        self.assertNotIn(png, b"".join(bundle.read(name) for name in bundle.namelist()))

    def test_an_ordinary_rendering_draws_the_thread(self) -> None:
        item = self.inbound(text="Ni är idioter allihop")
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.ABUSIVE,
            reason_text="Kränkande språk",
            by_hand=True,
        )
        self.assertFalse(record.restricted)
        self.assertFalse(hasattr(record, "escalation"))

    def test_the_evidence_of_a_thread_draws_no_media_of_an_item_moderated_as_csam(self) -> None:
        """R19: a later rendering of the thread (another item's evidence) does not draw it."""
        thread = {"thread_remote_id": "t1", "parent_remote_id": "t1"}
        kept = (a_png("kept.png", TWEET_PNG),)
        self.inbound("t1", text="Bilder från läsesalen", media=kept, thread_remote_id="t1")
        csam = self.inbound("666", text="Olagligt innehåll", media=(a_png("x.png"),), **thread)
        services.moderation_act(
            actor=self.max,
            item=csam,
            action="hide",
            reason=Reason.CSAM,
            reason_text="Sexuella övergrepp på barn",
            by_hand=True,
        )
        threat = self.inbound("777", text="Jag vet var du bor", **thread)
        record = services.moderation_act(
            actor=self.max,
            item=threat,
            action="hide",
            reason=Reason.THREAT,
            reason_text="Hot mot handläggare",
            by_hand=True,
        )
        bundle = zipfile.ZipFile(
            io.BytesIO(default_storage.open(record.escalation.bundle_name).read())
        )
        rendering = PdfReader(io.BytesIO(bundle.read("rendering.pdf")))
        # Only the other item's image is drawn (pages share resources: counted by data).
        images = {image.data for page in rendering.pages for image in page.images}
        self.assertEqual(len(images), 1)
        text = " ".join(" ".join(page.extract_text().split()) for page in rendering.pages)
        self.assertIn(
            hashlib.sha256(READING_ROOM_PNG.read_bytes()).hexdigest(), text.replace(" ", "")
        )
        png = READING_ROOM_PNG.read_bytes()
        self.assertNotIn(png, b"".join(bundle.read(name) for name in bundle.namelist()))


class MediaWithheldBackfillTests(ModerationTestCase):
    """Migration moderation 0002: CSAM decisions recorded before the withholding event."""

    def test_a_csam_decision_without_the_event_gets_it_once(self) -> None:
        import importlib

        from django.apps import apps

        from narvaro.archive.selectors import media_withheld_ids

        backfill = importlib.import_module(
            "narvaro.moderation.migrations.0002_media_withheld_backfill"
        )
        item = self.inbound("legacy", media=(a_png("x.png"),))
        other = self.inbound("ordinary")
        # As a failed decision was stored before: the action row, no archive event.
        for target, reason, restricted in ((item, Reason.CSAM, True), (other, Reason.SPAM, False)):
            ModerationAction.objects.create(
                account=self.account_a,
                item=target,
                action="hide",
                reason=reason,
                reason_text="Tidigare beslut",
                restricted=restricted,
                status=ModerationAction.Status.FAILED,
                rendering_sha256="0" * 64,
                rendering_name="moderation/renderings/x.pdf",
                rendering_size=1,
                actor=self.max,
            )
        self.assertEqual(media_withheld_ids([item.pk, other.pk]), set())

        backfill.withhold_decided(apps, None)
        backfill.withhold_decided(apps, None)  # again: nothing more

        self.assertEqual(media_withheld_ids([item.pk, other.pk]), {item.pk})
        [event] = ItemEvent.objects.filter(item=item, type=ItemEvent.Type.MEDIA_WITHHELD)
        self.assertEqual(event.details["recorded_later"], True)
        self.assertTrue(event.actor_name)
        self.assertFalse(ItemEvent.objects.filter(item=other).exists())
        self.assertTrue(verify_archive().intact)


class EscalationTests(ModerationTestCase):
    def test_a_threat_opens_a_task_with_the_evidence_bundle(self) -> None:
        item = self.inbound("777", text="Jag vet var du bor, akta dig")
        with self.settings(NARVARO_BASE_URL="https://narvaro.example.se"):
            record = services.moderation_act(
                actor=self.max,
                item=item,
                action="hide",
                reason=Reason.THREAT,
                reason_text="Hot mot handläggare",
                by_hand=True,
            )
        task = EscalationTask.objects.get(action=record)
        self.assertEqual(task.status, EscalationTask.Status.OPEN)
        self.assertEqual(task.unit, self.unit_a_child)
        self.assertEqual(list(task.assignees.all()), [self.alice])
        self.assertIn("777", task.police_report)
        self.assertIn("Jag vet var du bor, akta dig", task.police_report)
        self.assertIn(record.rendering_sha256, task.police_report)
        data = default_storage.open(task.bundle_name).read()
        self.assertEqual(hashlib.sha256(data).hexdigest(), task.bundle_sha256)
        bundle = zipfile.ZipFile(io.BytesIO(data))
        manifest = bundle.read("manifest-sha256.txt").decode().splitlines()
        named = {line.split("  ")[1]: line.split("  ")[0] for line in manifest}
        self.assertEqual(
            set(named), {"item.json", "rendering.pdf", "police-report.txt", "moderation.json"}
        )
        for name, digest in named.items():
            self.assertEqual(hashlib.sha256(bundle.read(name)).hexdigest(), digest)
        self.assertEqual(named["rendering.pdf"], record.rendering_sha256)
        self.assertEqual([m.to for m in mail.outbox], [[self.alice.email]])
        (message,) = mail.outbox
        self.assertEqual(message.subject, f"Narvaro: a post on {self.account_a} may be a crime")
        self.assertIn('as "Unlawful threat (olaga hot)"', message.body)
        self.assertIn(
            f"Open the escalation in Narvaro: https://narvaro.example.se/moderation/escalations/"
            f"{task.pk}/",
            message.body,
        )
        page = self.client_for(self.alice).get(f"/moderation/escalations/{task.pk}/")
        self.assertEqual(page.status_code, 200)

    def test_the_escalation_mail_is_in_the_organisations_language(self) -> None:
        item = self.inbound("778", text="Jag vet var du bor")
        # The moderator works in English; the managers are told in the organisation's language.
        with (
            self.settings(LANGUAGE_CODE="sv", NARVARO_BASE_URL="https://narvaro.example.se"),
            translation.override("en"),
        ):
            record = services.moderation_act(
                actor=self.max,
                item=item,
                action="hide",
                reason=Reason.THREAT,
                reason_text="Hot mot handläggare",
                by_hand=True,
            )
        (message,) = mail.outbox
        self.assertEqual(message.to, [self.alice.email])
        self.assertEqual(
            message.subject, f"Narvaro: ett inlägg på {self.account_a} kan vara ett brott"
        )
        self.assertIn(f'modererade ett inlägg på {self.account_a} som "Olaga hot"', message.body)
        self.assertIn(
            "Öppna eskaleringsärendet i Narvaro: https://narvaro.example.se/moderation/"
            f"escalations/{record.escalation.pk}/",
            message.body,
        )

    def test_closing_as_reported_needs_the_police_reference(self) -> None:
        item = self.inbound(text="Hets")
        record = services.moderation_act(
            actor=self.max,
            item=item,
            action="hide",
            reason=Reason.HATE_SPEECH,
            reason_text="Hets mot folkgrupp",
            by_hand=True,
        )
        task = record.escalation
        with self.assertRaisesMessage(ValidationError, "police's reference"):
            services.escalation_close(actor=self.alice, task=task, status="reported")
        services.escalation_close(
            actor=self.alice, task=task, status="reported", police_reference="5000-K123-26"
        )
        task.refresh_from_db()
        self.assertEqual((task.status, task.closed_by), ("reported", self.alice))
        with self.assertRaisesMessage(ValidationError, "already closed"):
            services.escalation_close(actor=self.alice, task=task, status="closed", note="x")


class QueueTests(ModerationTestCase):
    def test_the_feed_queues_inbound_items_only(self) -> None:
        capture_batch(
            account=self.account_a,
            captures=[a_capture("1"), a_capture("2", direction="drawn_up"), a_capture("3")],
            source="test",
        )
        services.queue_fill()
        self.assertEqual(
            sorted(QueueEntry.objects.values_list("item__remote_id", flat=True)), ["1", "3"]
        )
        # Running again adds nothing.
        self.assertEqual(services.queue_fill(), 0)
        self.assertEqual(QueueEntry.objects.count(), 2)

    def test_review_marks_only_pending_items_of_the_account(self) -> None:
        one, two = self.inbound("1"), self.inbound("2")
        capture_batch(account=self.account_b, captures=[a_capture("9")], source="t")
        other = Item.objects.get(remote_id="9")
        count = services.queue_review(
            actor=self.max, account=self.account_a, item_ids=[one.pk, other.pk]
        )
        self.assertEqual(count, 1)
        self.assertEqual(QueueEntry.objects.get(item=one).outcome, "reviewed")
        self.assertFalse(QueueEntry.objects.filter(item=other).exists())
        self.assertFalse(QueueEntry.objects.filter(item=two, reviewed_at__isnull=False).exists())
