"""The organisation's business calendar from the database, response targets and the roster."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase, make_person, make_unit
from narvaro.organisation import services
from narvaro.organisation.business_time import business_deadline, business_duration
from narvaro.organisation.models import CalendarDay, Membership
from narvaro.organisation.selectors import (
    business_calendar_load,
    on_duty,
    on_duty_map,
    response_target_for_unit,
    roster_candidates,
    roster_for_unit,
    unit_response_targets,
)

TZ = ZoneInfo("Europe/Stockholm")
DAY = dt.timedelta(hours=8, minutes=30)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def t(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


class CalendarLoadTests(NarvaroTestCase):
    def test_without_settings_the_default_week_and_swedish_holidays_apply(self) -> None:
        with self.assertNumQueries(1):
            calendar = business_calendar_load()
        self.assertEqual(calendar.working_day_length(), DAY)
        # Juldagen 2026 is a Friday: closed.
        self.assertEqual(
            calendar.duration(at(2026, 12, 25, 0), at(2026, 12, 26, 0)), dt.timedelta(0)
        )

    def test_the_week_and_the_exceptions_are_read_in_one_query(self) -> None:
        services.opening_hours_set(
            actor=self.adam,
            week={d: [(t("08:00"), t("12:00")), (t("13:00"), t("16:30"))] for d in range(5)},
        )
        services.calendar_day_set(actor=self.adam, date=dt.date(2026, 5, 15), kind="closed")
        services.calendar_day_set(
            actor=self.adam,
            date=dt.date(2026, 6, 18),
            kind="hours",
            closes_at=t("13:00"),
            note="Dag före midsommarafton",
        )
        with self.assertNumQueries(1):
            calendar = business_calendar_load()
        self.assertEqual(calendar.working_day_length(), dt.timedelta(hours=7, minutes=30))
        # Klämdag after Kristi himmelsfärd: closed.
        self.assertEqual(calendar.duration(at(2026, 5, 15, 0), at(2026, 5, 16, 0)), dt.timedelta(0))
        # The day before midsommarafton closes at 13:00, so 4 h (08–12) count.
        self.assertEqual(
            calendar.duration(at(2026, 6, 18, 0), at(2026, 6, 19, 0)), dt.timedelta(hours=4)
        )

    def test_on_postgres_and_sqlite_alike_the_union_types_line_up(self) -> None:
        services.calendar_day_set(
            actor=None,
            date=dt.date(2026, 7, 4),
            kind="hours",
            opens_at=t("10:00"),
            closes_at=t("14:00"),
        )
        calendar = business_calendar_load()
        rule = calendar.days[dt.date(2026, 7, 4)]
        self.assertEqual((rule.closed, rule.opens, rule.closes), (False, t("10:00"), t("14:00")))

    def test_the_module_functions_load_the_calendar_when_not_given_one(self) -> None:
        self.assertEqual(business_deadline(at(2026, 11, 20, 16), DAY), at(2026, 11, 23, 16))
        self.assertEqual(business_duration(at(2026, 11, 20, 16), at(2026, 11, 23, 16)), DAY)


class OpeningHoursServiceTests(NarvaroTestCase):
    def test_overlapping_intervals_and_an_empty_week_are_refused(self) -> None:
        with self.assertRaises(ValidationError):
            services.opening_hours_set(
                actor=self.adam, week={0: [(t("08:00"), t("12:00")), (t("11:00"), t("16:00"))]}
            )
        with self.assertRaises(ValidationError):
            services.opening_hours_set(actor=self.adam, week={})
        with self.assertRaises(ValidationError):
            services.opening_hours_set(actor=self.adam, week={0: [(t("12:00"), t("08:00"))]})

    def test_a_change_is_logged_with_the_old_and_new_hours(self) -> None:
        services.opening_hours_set(
            actor=self.adam, week={d: [(t("08:00"), t("16:30"))] for d in range(5)}
        )
        services.opening_hours_set(
            actor=self.adam,
            week={
                **{d: [(t("08:00"), t("16:30"))] for d in range(4)},
                4: [(t("08:00"), t("15:00"))],
            },
        )
        event = AuditEvent.objects.filter(summary="opening hours changed").latest("at")
        self.assertEqual(event.changes, {"4": ["08:00–16:30", "08:00–15:00"]})
        self.assertEqual(event.actor, self.adam)

    def test_a_calendar_day_with_other_hours_needs_a_time(self) -> None:
        with self.assertRaises(ValidationError):
            services.calendar_day_set(actor=None, date=dt.date(2026, 1, 2), kind="hours")
        with self.assertRaises(ValidationError):
            services.calendar_day_set(
                actor=None,
                date=dt.date(2026, 1, 2),
                kind="hours",
                opens_at=t("13:00"),
                closes_at=t("09:00"),
            )
        day = services.calendar_day_set(
            actor=None, date=dt.date(2026, 1, 2), kind="closed", opens_at=t("13:00")
        )
        self.assertIsNone(day.opens_at)
        services.calendar_day_remove(actor=None, day=day)
        self.assertFalse(CalendarDay.objects.exists())


class ResponseTargetTests(NarvaroTestCase):
    def test_a_unit_without_a_target_inherits_its_parents_and_the_top_one_working_day(
        self,
    ) -> None:
        services.unit_update(actor=None, unit=self.unit_a, response_target=dt.timedelta(hours=4))
        calendar = business_calendar_load()
        with self.assertNumQueries(1):
            targets = unit_response_targets(calendar)
        self.assertEqual(targets[self.root.pk], DAY)
        self.assertEqual(targets[self.unit_b.pk], DAY)
        self.assertEqual(targets[self.unit_a.pk], dt.timedelta(hours=4))
        self.assertEqual(targets[self.unit_a_child.pk], dt.timedelta(hours=4))
        self.assertEqual(
            response_target_for_unit(self.unit_a_child, calendar), dt.timedelta(hours=4)
        )

    def test_the_default_follows_the_opening_hours(self) -> None:
        services.opening_hours_set(
            actor=None, week={d: [(t("09:00"), t("15:00"))] for d in range(5)}
        )
        targets = unit_response_targets(business_calendar_load())
        self.assertEqual(targets[self.unit_a_child.pk], dt.timedelta(hours=6))

    @time_machine.travel(at(2026, 12, 28, 12, 0, 1), tick=False)
    def test_a_question_from_before_christmas_is_overdue_after_it_frozen_clock(self) -> None:
        calendar = business_calendar_load()
        target = unit_response_targets(calendar)[self.unit_a_child.pk]
        self.assertTrue(calendar.is_overdue(at(2026, 12, 23, 12), target))
        self.assertFalse(calendar.is_overdue(at(2026, 12, 23, 12, 1), target))


class DutyRosterTests(NarvaroTestCase):
    def test_on_duty_walks_up_to_the_nearest_unit_with_someone_rostered(self) -> None:
        ruth = make_person("ruth")
        monday, tuesday = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
        services.duty_assign(
            actor=self.adam, unit=self.root, user=self.adam, dates=[monday, tuesday]
        )
        services.duty_assign(actor=self.alice, unit=self.unit_a, user=ruth, dates=[monday])
        services.duty_assign(actor=self.alice, unit=self.unit_a, user=self.alice, dates=[monday])
        with self.assertNumQueries(2):
            self.assertEqual(on_duty(self.unit_a_child, monday), [self.alice, ruth])
        self.assertEqual(on_duty(self.unit_a_child, tuesday), [self.adam])
        self.assertEqual(on_duty(self.unit_b, monday), [self.adam])
        self.assertEqual(on_duty(self.unit_b, dt.date(2026, 11, 25)), [])
        with self.assertNumQueries(2):
            everyone = on_duty_map(monday)
        self.assertEqual(everyone[self.unit_a_child.pk], [self.alice, ruth])
        self.assertEqual(everyone[self.unit_b.pk], [self.adam])

    def test_assigning_twice_keeps_one_row_and_is_logged(self) -> None:
        monday = dt.date(2026, 11, 23)
        services.duty_assign(actor=self.alice, unit=self.unit_a, user=self.alice, dates=[monday])
        services.duty_assign(
            actor=self.alice, unit=self.unit_a, user=self.alice, dates=[monday], note="Förmiddag"
        )
        (assignment,) = self.unit_a.duty_assignments.all()
        self.assertEqual(assignment.note, "Förmiddag")
        self.assertEqual(
            AuditEvent.objects.filter(target_type="organisation.dutyassignment").count(), 2
        )

    def test_the_roster_costs_the_same_number_of_queries_for_four_weeks_or_one_day(self) -> None:
        calendar = business_calendar_load()
        first = dt.date(2026, 12, 21)
        for offset in range(28):
            services.duty_assign(
                actor=None,
                unit=self.root,
                user=self.adam,
                dates=[first + dt.timedelta(days=offset)],
            )
        with CaptureQueriesContext(connection) as one:
            roster_for_unit(self.unit_a, first, 1, calendar)
        with self.assertNumQueries(len(one.captured_queries)), translation.override("en"):
            rows = roster_for_unit(self.unit_a, first, 28, calendar)
        christmas = rows[4]
        self.assertEqual(christmas.date, dt.date(2026, 12, 25))
        self.assertEqual(christmas.holiday, "Christmas Day")
        self.assertEqual(christmas.open_intervals, [])
        self.assertEqual(christmas.covering, [self.adam])
        self.assertEqual(christmas.covered_by.pk if christmas.covered_by else None, self.root.pk)

    def test_only_people_who_may_answer_in_the_unit_can_be_rostered(self) -> None:
        ruth = make_person("ruth")
        services.membership_grant(
            actor=None, unit=self.unit_a, user=ruth, role=Membership.Role.RESPONDER
        )
        candidates = list(roster_candidates(self.unit_a_child))
        self.assertEqual(candidates, [self.alice, ruth])
        self.assertNotIn(self.vera, candidates)
        self.assertNotIn(self.bob, candidates)
        self.assertEqual(list(roster_candidates(self.unit_b)), [self.bob])
        make_unit("skola", self.unit_b)
