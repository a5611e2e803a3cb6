"""The critique radar: a burst raises exactly one alert, a normal day none (frozen clock)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import time_machine
from django.core import mail
from django.test import override_settings

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.channels.models import Account
from narvaro.lib.testing import NarvaroTestCase, make_account
from narvaro.radar import services, spikes
from narvaro.radar.models import Alert, Classification

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
# A Tuesday; the history runs eight weeks before it.
TODAY = dt.datetime(2026, 3, 10, tzinfo=STOCKHOLM)


def usual_rate(moment: dt.datetime) -> float:
    """Inbound items per hour on an ordinary municipal account: busy office hours, quiet nights."""
    local = moment.astimezone(STOCKHOLM)
    if local.weekday() >= 5:
        return 1.0 if 9 <= local.hour < 21 else 0.2
    if 8 <= local.hour < 17:
        return 3.0
    if 17 <= local.hour < 23:
        return 1.5
    return 0.2


class RadarTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.history(cls.account_a, TODAY - dt.timedelta(weeks=8), TODAY)

    @classmethod
    def history(cls, account: Account, start: dt.datetime, end: dt.datetime) -> None:
        """Items at the usual rate from `start` to `end`, 10% of them critique.

        The arrivals are random but the same for the same account and period, whichever tests
        ran before (test order differs between runs and parallel workers).
        """
        rng = random.Random(f"{account.handle}|{start.isoformat()}|{end.isoformat()}")
        items, categories = [], []
        hour = start
        while hour < end:
            # Poisson arrivals: exponential gaps at this hour's rate.
            moment = hour + dt.timedelta(hours=rng.expovariate(usual_rate(hour)))
            while moment < hour + dt.timedelta(hours=1) and moment < end:
                items.append(
                    Item(
                        account=account,
                        platform="mastodon",
                        remote_id=f"h{account.pk}-{len(items)}-{moment.timestamp()}",
                        kind="comment",
                        direction="received",
                        created_at=moment,
                    )
                )
                categories.append("critique" if rng.random() < 0.1 else "question")
                moment += dt.timedelta(hours=rng.expovariate(usual_rate(hour)))
            hour += dt.timedelta(hours=1)
        created = Item.objects.bulk_create(items)
        Classification.objects.bulk_create(
            Classification(
                item=item,
                account=account,
                at=item.created_at,
                category=category,
                source="rules",
            )
            for item, category in zip(created, categories, strict=True)
        )

    def evaluate_day(self, start: dt.datetime, hours: int) -> list[Alert]:
        """Run the radar every 10 minutes (as scheduled) from `start` for `hours`."""
        touched: list[Alert] = []
        for step in range(hours * 6):
            with time_machine.travel(start + dt.timedelta(minutes=10 * step), tick=False):
                touched.extend(services.radar_evaluate())
        return touched

    def test_a_normal_day_raises_no_alert(self) -> None:
        self.history(self.account_a, TODAY, TODAY + dt.timedelta(days=1))
        self.assertEqual(self.evaluate_day(TODAY + dt.timedelta(minutes=10), 24), [])
        self.assertFalse(Alert.objects.exists())
        self.assertEqual(mail.outbox, [])

    @override_settings(NARVARO_BASE_URL="https://narvaro.example.se")
    def test_a_burst_of_critical_replies_raises_exactly_one_alert(self) -> None:
        self.history(self.account_a, TODAY, TODAY + dt.timedelta(hours=13))
        burst_start = TODAY + dt.timedelta(hours=13)
        angry = [
            "Skandal! Ni har stängt badhuset utan förvarning, helt oacceptabelt.",
            "Vilken usel kommunikation om badhuset. Skäms!",
            "Disgraceful decision to close the pool, absolutely unacceptable.",
            "Varför stänger ni badhuset? Fruktansvärt dåligt beslut.",
            "Helt värdelöst, barnen har ingenstans att simma nu. Skandal.",
        ]
        captures = [
            a_capture(
                f"burst-{n}",
                angry[n % len(angry)],
                created_at=burst_start + dt.timedelta(minutes=n),
                author_handle=f"@resident{n}@social.example",
            )
            for n in range(30)
        ]
        capture_batch(account=self.account_a, captures=captures, source="test")
        burst_ids = list(
            Item.objects.filter(remote_id__startswith="burst-").values_list("pk", flat=True)
        )
        self.assertEqual(
            set(services.items_classify(burst_ids).values()), {"critique"}, "rules read critique"
        )
        # The rest of the day is ordinary again.
        self.history(
            self.account_a, burst_start + dt.timedelta(hours=1), TODAY + dt.timedelta(days=1)
        )

        touched = self.evaluate_day(TODAY + dt.timedelta(hours=12), 8)

        alert = Alert.objects.get()
        self.assertTrue(touched)
        self.assertEqual({a.pk for a in touched}, {alert.pk})
        self.assertEqual(
            (alert.scope, alert.account, alert.unit), ("account", self.account_a, self.unit_a_child)
        )
        self.assertTrue(alert.critique_spike)
        self.assertTrue(alert.volume_spike)
        self.assertLess(alert.critique_p, 0.001)
        self.assertGreaterEqual(alert.observed, 30)
        self.assertLess(alert.expected, 5)
        self.assertTrue(set(burst_ids) <= set(alert.items.values_list("pk", flat=True)))
        # The unit's manager (alice manages kultur, the library's parent) is told once.
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["alice@example.org"])
        self.assertEqual(alert.emailed_to, ["alice@example.org"])
        self.assertIn(f"/radar/alerts/{alert.pk}/", mail.outbox[0].body)
        # A mail client needs the whole address, not a path on the site (NARVARO_BASE_URL).
        self.assertIn(f"https://narvaro.example.se/radar/alerts/{alert.pk}/", mail.outbox[0].body)

        # A second burst the next day is a new alert.
        next_day = TODAY + dt.timedelta(days=1, hours=13)
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(f"again-{n}", angry[n % 5], created_at=next_day + dt.timedelta(minutes=n))
                for n in range(30)
            ],
            source="test",
        )
        services.items_classify(
            list(Item.objects.filter(remote_id__startswith="again-").values_list("pk", flat=True))
        )
        self.evaluate_day(next_day, 2)
        self.assertEqual(Alert.objects.count(), 2)

    @override_settings(NARVARO_RADAR_SENSITIVITY=0.000001, NARVARO_RADAR_MIN_CRITIQUE=40)
    def test_sensitivity_and_minimum_count_are_settings(self) -> None:
        start = TODAY + dt.timedelta(hours=13)
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture(
                    f"b-{n}", "Skandal, usel service!", created_at=start + dt.timedelta(minutes=n)
                )
                for n in range(12)
            ],
            source="test",
        )
        services.items_classify(
            list(Item.objects.filter(remote_id__startswith="b-").values_list("pk", flat=True))
        )
        with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
            self.assertEqual(services.radar_evaluate(), [])

    def test_expectation_follows_the_hour_of_the_week(self) -> None:
        history = spikes.History(first=TODAY - dt.timedelta(weeks=8))
        tuesday_ten = spikes.hour_of_week(TODAY + dt.timedelta(hours=10))
        history.counts[tuesday_ten] = 8 * 3  # three an hour, eight weeks
        history.counts[spikes.hour_of_week(TODAY + dt.timedelta(hours=3))] = 8 * 0.2
        start = TODAY + dt.timedelta(hours=10)
        busy = spikes.expectation(history, start, start + dt.timedelta(hours=1))
        night = spikes.expectation(
            history, TODAY + dt.timedelta(hours=3), TODAY + dt.timedelta(hours=4)
        )
        assert busy is not None and night is not None
        self.assertAlmostEqual(busy.expected, 2.67, places=1)
        self.assertLess(night.expected, 0.3)

    def test_an_account_without_history_raises_nothing(self) -> None:
        fresh = make_account(self.unit_b, self.policy, [self.bob], handle="@fresh@social.example")
        start = TODAY + dt.timedelta(hours=13)
        capture_batch(
            account=fresh,
            captures=[
                a_capture(f"f-{n}", "Skandal!", created_at=start + dt.timedelta(minutes=n))
                for n in range(20)
            ],
            source="test",
        )
        services.items_classify(
            list(Item.objects.filter(remote_id__startswith="f-").values_list("pk", flat=True))
        )
        with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
            self.assertEqual(services.radar_evaluate(), [])
