"""GDPR erasure requests: recorded, decided once, the decision kept (R28)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from narvaro.archive.models import ItemVersion
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.retention import services
from narvaro.retention.models import ErasureRequest


class ErasureRequestTests(NarvaroTestCase):
    def test_a_request_without_a_name_is_recorded_r28(self) -> None:
        erasure = services.erasure_request_record(actor=self.rita, scope="Mina kommentarer 2025")
        self.assertEqual((erasure.requester, erasure.decision), ("", ""))
        self.assertFalse(erasure.is_decided)

    def test_the_default_decision_keeps_the_record_and_states_why_r28(self) -> None:
        capture_batch(account=self.account_a, captures=[a_capture("1")], source="test")
        before = list(ItemVersion.objects.values_list("raw_payload", flat=True))
        erasure = services.erasure_request_record(
            actor=self.rita, scope="Radera min kommentar", requester="Anna"
        )
        erasure = services.erasure_request_decide(
            actor=self.rita,
            erasure=erasure,
            decision=ErasureRequest.Decision.NO_ERASURE,
            reasons=services.DEFAULT_ERASURE_REASONS,
            requester_told_on=dt.date(2026, 3, 9),
        )
        erasure.refresh_from_db()
        self.assertEqual(erasure.decision, "no_erasure")
        self.assertIn("art. 17(3)(b) and (d)", erasure.reasons)
        self.assertEqual(erasure.decided_by, self.rita)
        self.assertEqual(erasure.requester_told_on, dt.date(2026, 3, 9))
        # Deciding erases nothing.
        self.assertEqual(list(ItemVersion.objects.values_list("raw_payload", flat=True)), before)
        self.assertTrue(
            AuditEvent.objects.filter(target_id=str(erasure.pk), summary__contains="no_erasure")
        )

    def test_a_decision_is_kept_and_cannot_be_changed_r28(self) -> None:
        erasure = services.erasure_request_record(actor=self.rita, scope="x")
        services.erasure_request_decide(
            actor=self.rita, erasure=erasure, decision="no_erasure_hide", reasons="Dolt"
        )
        with self.assertRaisesMessage(ValidationError, "already been decided"):
            services.erasure_request_decide(
                actor=self.adam, erasure=erasure, decision="erase_by_disposal", reasons="x"
            )
        erasure.refresh_from_db()
        self.assertEqual((erasure.decision, erasure.decided_by), ("no_erasure_hide", self.rita))

    def test_a_decision_needs_reasons(self) -> None:
        erasure = services.erasure_request_record(actor=self.rita, scope="x")
        with self.assertRaisesMessage(ValidationError, "Give the reasons"):
            services.erasure_request_decide(
                actor=self.rita, erasure=erasure, decision="no_erasure", reasons=" "
            )
