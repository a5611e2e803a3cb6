"""The supervision monitor (R15): 24 hours to the moderators, 7 days to the managers, once each.

The clock is frozen (time-machine) and moved hour by hour; each step runs the monitor's task
as the scheduler would.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core import mail

from narvaro.core.models import AuditEvent
from narvaro.core.scheduler import registered_jobs
from narvaro.moderation import services
from narvaro.moderation.models import SupervisionAlert
from narvaro.moderation.tasks import moderation_supervise
from narvaro.moderation.tests.support import ModerationTestCase

T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


class SupervisionTests(ModerationTestCase):
    def setUp(self) -> None:
        super().setUp()
        with time_machine.travel(T0, tick=False):
            self.item = self.inbound("1")
        mail.outbox.clear()

    def run_monitor(self, after: dt.timedelta) -> list[int]:
        with time_machine.travel(T0 + after, tick=False):
            result = moderation_supervise.call()
        return list(result["alerts"])  # type: ignore[call-overload]

    def test_the_24_hour_and_7_day_alerts_fire_once_each(self) -> None:
        self.assertEqual(self.run_monitor(dt.timedelta(hours=23, minutes=59)), [])
        with self.settings(NARVARO_BASE_URL="https://narvaro.example.se"):
            (overdue_id,) = self.run_monitor(dt.timedelta(hours=25))
        overdue = SupervisionAlert.objects.get(pk=overdue_id)
        self.assertEqual(overdue.level, SupervisionAlert.Level.OVERDUE)
        self.assertEqual(overdue.waiting_since, T0)
        self.assertEqual(overdue.pending, 1)
        # The unit's moderators: max (moderator of kultur) and alice (manager of kultur).
        self.assertEqual(overdue.recipients, ["alice", "max"])
        self.assertEqual(sorted(mail.outbox[0].to), [self.alice.email, self.max.email])
        queue = f"https://narvaro.example.se/moderation/accounts/{self.account_a.pk}/"
        self.assertEqual(
            mail.outbox[0].subject, f"Narvaro: the moderation queue of {self.account_a} waits"
        )
        self.assertIn(f"1 item on {self.account_a} waits for review.", mail.outbox[0].body)
        self.assertIn("(1 day)", mail.outbox[0].body)
        self.assertIn(f"Review the moderation queue in Narvaro: {queue}", mail.outbox[0].body)
        # Hourly runs after that raise nothing new until the seventh day.
        for hours in range(26, 7 * 24, 7):
            self.assertEqual(self.run_monitor(dt.timedelta(hours=hours)), [], hours)
        with self.settings(NARVARO_BASE_URL="https://narvaro.example.se"):
            (escalated_id,) = self.run_monitor(dt.timedelta(days=7, hours=1))
        escalated = SupervisionAlert.objects.get(pk=escalated_id)
        self.assertEqual(escalated.level, SupervisionAlert.Level.ESCALATED)
        # The managers and the records officer (R15).
        self.assertEqual(escalated.recipients, ["alice", "rita"])
        self.assertEqual(sorted(mail.outbox[1].to), [self.alice.email, self.rita.email])
        self.assertIn("(7 days)", mail.outbox[1].body)
        self.assertIn(queue, mail.outbox[1].body)
        # Everyone told can open the queue the mails link to.
        path = queue.removeprefix("https://narvaro.example.se")
        for person in (self.max, self.alice, self.rita):
            self.assertEqual(self.client_for(person).get(path).status_code, 200, person)
        self.assertEqual(self.run_monitor(dt.timedelta(days=8)), [])
        self.assertEqual(self.run_monitor(dt.timedelta(days=30)), [])
        self.assertEqual(SupervisionAlert.objects.count(), 2)
        self.assertEqual(len(mail.outbox), 2)
        self.assertEqual(
            AuditEvent.objects.filter(target_type="moderation.supervisionalert").count(), 2
        )

    def test_the_alerts_are_in_the_organisations_language_with_the_queues_address(self) -> None:
        with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
            self.inbound("2")
        with self.settings(LANGUAGE_CODE="sv", NARVARO_BASE_URL="https://narvaro.example.se"):
            self.run_monitor(dt.timedelta(hours=25))
            self.run_monitor(dt.timedelta(days=7, hours=1))
        overdue, escalated = mail.outbox
        queue = f"https://narvaro.example.se/moderation/accounts/{self.account_a.pk}/"
        self.assertEqual(overdue.subject, f"Narvaro: modereringskön för {self.account_a} väntar")
        self.assertIn(f"2 inlägg på {self.account_a} väntar på granskning.", overdue.body)
        self.assertIn("(1 dag)", overdue.body)
        self.assertIn("Kontoinnehavaren ska ha uppsikt över kommentarerna", overdue.body)
        self.assertIn(f"Granska modereringskön i Narvaro: {queue}", overdue.body)
        self.assertIn("(7 dagar)", escalated.body)
        self.assertIn(f"Granska modereringskön i Narvaro: {queue}", escalated.body)

    def test_a_review_resolves_the_alert_and_starts_a_new_period(self) -> None:
        (alert_id,) = self.run_monitor(dt.timedelta(hours=25))
        with time_machine.travel(T0 + dt.timedelta(hours=20), tick=False):
            self.inbound("2")
        reviewed_at = T0 + dt.timedelta(hours=30)
        with time_machine.travel(reviewed_at, tick=False):
            services.queue_review(actor=self.max, account=self.account_a, item_ids=[self.item.pk])
        alert = SupervisionAlert.objects.get(pk=alert_id)
        self.assertEqual(alert.resolved_at, reviewed_at)
        # The second item waits since the review, so the clock restarts there.
        self.assertEqual(self.run_monitor(dt.timedelta(hours=53)), [])
        (again_id,) = self.run_monitor(dt.timedelta(hours=55))
        self.assertEqual(SupervisionAlert.objects.get(pk=again_id).waiting_since, reviewed_at)

    def test_an_empty_queue_raises_nothing(self) -> None:
        services.queue_review(actor=self.max, account=self.account_a, item_ids=[self.item.pk])
        self.assertEqual(self.run_monitor(dt.timedelta(days=9)), [])

    def test_the_monitor_is_a_periodic_job(self) -> None:
        jobs = {job.name: job for job in registered_jobs()}
        self.assertEqual(jobs["moderation-supervision"].interval, dt.timedelta(hours=1))
        self.assertEqual(
            jobs["moderation-supervision"].task_path,
            "narvaro.moderation.tasks.moderation_supervise",
        )
