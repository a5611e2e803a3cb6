"""Pages for business hours, response targets and the duty roster (R14)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase, make_person
from narvaro.organisation import services
from narvaro.organisation.models import CalendarDay, DutyAssignment, Membership, OpeningHours

TZ = ZoneInfo("Europe/Stockholm")
# Monday 23 November 2026, 10:00 in Stockholm.
NOW = dt.datetime(2026, 11, 23, 10, tzinfo=TZ)


@time_machine.travel(NOW, tick=False)
class BusinessHoursPageTests(NarvaroTestCase):
    def test_everyone_signed_in_sees_the_week_and_the_holidays_ahead(self) -> None:
        response = self.client_for(self.vera).get(reverse("organisation:business_hours"))
        self.assertContains(response, "08:00–16:30")
        self.assertContains(response, "Christmas Day")
        self.assertContains(response, "Midsummer Eve")  # 2027
        self.assertNotContains(response, reverse("organisation:opening_hours_edit"))

    def test_the_page_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("organisation:business_hours")
        client.get(url)
        with self.assertNumQueries(5):
            client.get(url)
        for offset in range(30):
            services.calendar_day_set(
                actor=None, date=dt.date(2026, 12, 1) + dt.timedelta(days=offset), kind="closed"
            )
        with self.assertNumQueries(5):
            response = client.get(url)
        self.assertContains(response, "Back to normal hours", count=30 + 0)

    def test_an_admin_sets_a_week_with_a_lunch_break(self) -> None:
        data = {f"day_{d}": "08:00–12:00, 13:00-16:30" for d in range(5)}
        data |= {"day_5": "", "day_6": ""}
        response = self.client_for(self.adam).post(reverse("organisation:opening_hours_edit"), data)
        self.assertRedirects(response, reverse("organisation:business_hours"))
        self.assertEqual(OpeningHours.objects.count(), 10)
        self.assertTrue(AuditEvent.objects.filter(summary="opening hours changed").exists())
        page = self.client_for(self.adam).get(reverse("organisation:business_hours"))
        self.assertContains(page, "08:00–12:00, 13:00–16:30")

    def test_a_wrong_or_overlapping_time_is_reported_next_to_its_day(self) -> None:
        data = {f"day_{d}": "" for d in range(7)}
        data |= {"day_0": "8–16", "day_1": "08:00–12:00, 11:00–16:00", "day_2": "16:00–08:00"}
        response = self.client_for(self.adam).post(reverse("organisation:opening_hours_edit"), data)
        self.assertContains(response, 'id="id_day_0_error"')
        self.assertContains(response, 'id="id_day_1_error"')
        self.assertContains(response, 'id="id_day_2_error"')
        self.assertFalse(OpeningHours.objects.exists())

    def test_a_week_without_any_open_time_is_refused(self) -> None:
        data = {f"day_{d}": "" for d in range(7)}
        response = self.client_for(self.adam).post(reverse("organisation:opening_hours_edit"), data)
        self.assertContains(response, "The organisation must be open at some time of the week.")

    def test_only_admins_change_business_hours(self) -> None:
        for name in ("opening_hours_edit", "calendar_day_add"):
            self.assertEqual(
                self.client_for(self.alice).get(reverse(f"organisation:{name}")).status_code, 403
            )

    def test_an_admin_closes_a_klamdag_and_shortens_the_day_before_a_holiday(self) -> None:
        client = self.client_for(self.adam)
        url = reverse("organisation:calendar_day_add")
        client.post(url, {"date": "2027-05-07", "kind": "closed", "note": "Klämdag"})
        client.post(url, {"date": "2026-12-23", "kind": "hours", "closes_at": "13:00"})
        day = CalendarDay.objects.get(date=dt.date(2026, 12, 23))
        self.assertEqual((day.opens_at, day.closes_at), (None, dt.time(13)))
        # Setting the same date again replaces its hours.
        response = client.post(url, {"date": "2026-12-23", "kind": "hours", "closes_at": "12:00"})
        self.assertRedirects(response, reverse("organisation:business_hours"))
        day.refresh_from_db()
        self.assertEqual(day.closes_at, dt.time(12))
        page = client.get(reverse("organisation:business_hours"))
        self.assertContains(page, "Klämdag")

    def test_other_hours_without_a_time_are_refused(self) -> None:
        response = self.client_for(self.adam).post(
            reverse("organisation:calendar_day_add"), {"date": "2026-12-23", "kind": "hours"}
        )
        self.assertContains(response, "Give an opening time, a closing time or both.")
        self.assertFalse(CalendarDay.objects.exists())

    def test_removing_a_day_asks_first_then_gives_back_the_normal_hours(self) -> None:
        day = services.calendar_day_set(actor=None, date=dt.date(2026, 12, 23), kind="closed")
        url = reverse("organisation:calendar_day_remove", args=[day.pk])
        client = self.client_for(self.adam)
        self.assertContains(client.get(url), "Back to normal hours")
        self.assertTrue(CalendarDay.objects.exists())
        self.assertRedirects(client.post(url), reverse("organisation:business_hours"))
        self.assertFalse(CalendarDay.objects.exists())
        self.assertEqual(self.client_for(self.alice).post(url).status_code, 403)


@time_machine.travel(NOW, tick=False)
class ResponseTargetPageTests(NarvaroTestCase):
    def test_the_unit_page_shows_the_inherited_target_and_who_is_on_duty(self) -> None:
        services.duty_assign(
            actor=None, unit=self.unit_a, user=self.alice, dates=[dt.date(2026, 11, 23)]
        )
        response = self.client_for(self.vera).get(self.unit_a_child.get_absolute_url())
        self.assertContains(response, "8 h 30 min")
        self.assertContains(response, "Alice")

    def test_a_manager_sets_a_target_and_the_subunit_inherits_it(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:unit_edit", args=[self.unit_a.pk]),
            {"name": "Kultur", "slug": "kultur", "parent": self.root.pk, "response_target": "4"},
        )
        self.assertRedirects(response, self.unit_a.get_absolute_url())
        self.unit_a.refresh_from_db()
        self.assertEqual(self.unit_a.response_target, dt.timedelta(hours=4))
        event = AuditEvent.objects.get(target_type="organisation.unit", action="update")
        self.assertEqual(event.changes, {"response_target": [None, "4:00:00"]})
        child = self.client_for(self.alice).get(self.unit_a_child.get_absolute_url())
        self.assertContains(child, "4 h")
        form = self.client_for(self.alice).get(
            reverse("organisation:unit_edit", args=[self.unit_a_child.pk])
        )
        self.assertContains(form, "as Kultur, 4 h")

    def test_the_target_is_typed_as_hours_and_minutes(self) -> None:
        url = reverse("organisation:unit_edit", args=[self.unit_a.pk])
        base = {"name": "Kultur", "slug": "kultur", "parent": self.root.pk}
        client = self.client_for(self.alice)
        for typed, expected in [("2:15", 135), ("2,5", 150), ("1.5", 90), ("16:30", 990)]:
            client.post(url, {**base, "response_target": typed})
            self.unit_a.refresh_from_db()
            self.assertEqual(self.unit_a.response_target, dt.timedelta(minutes=expected))
        for wrong in ("soon", "2:75", "0"):
            response = client.post(url, {**base, "response_target": wrong})
            self.assertContains(response, 'id="id_response_target_error"')
        page = client.get(url)
        self.assertContains(page, 'value="16:30"')


@time_machine.travel(NOW, tick=False)
class RosterPageTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.ruth = make_person("ruth")
        services.membership_grant(
            actor=None, unit=cls.unit_a, user=cls.ruth, role=Membership.Role.RESPONDER
        )

    def test_the_roster_shows_four_weeks_from_this_monday_with_holidays(self) -> None:
        response = self.client_for(self.vera).get(
            reverse("organisation:roster", args=[self.unit_a.pk]) + "?from=2026-12-22"
        )
        self.assertContains(response, "2026-12-21 to 2027-01-17")
        self.assertContains(response, "Christmas Day")
        self.assertNotContains(response, reverse("organisation:duty_add", args=[self.unit_a.pk]))

    def test_the_roster_costs_a_fixed_number_of_queries(self) -> None:
        client = self.client_for(self.alice)
        url = reverse("organisation:roster", args=[self.unit_a_child.pk])
        client.get(url)
        with self.assertNumQueries(10):
            client.get(url)
        services.duty_assign(
            actor=None,
            unit=self.unit_a,
            user=self.ruth,
            dates=[dt.date(2026, 11, 23) + dt.timedelta(days=n) for n in range(28)],
        )
        services.duty_assign(
            actor=None,
            unit=self.unit_a_child,
            user=self.alice,
            dates=[dt.date(2026, 11, 23) + dt.timedelta(days=n) for n in range(0, 28, 2)],
        )
        with self.assertNumQueries(10):
            response = client.get(url)
        self.assertContains(response, "Covered by Kultur:", count=14)

    def test_a_manager_rosters_a_responder_on_weekdays_of_two_weeks(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:duty_add", args=[self.unit_a.pk]),
            {
                "user": self.ruth.pk,
                "first": "2026-11-23",
                "last": "2026-12-06",
                "weekdays": ["0", "1", "2", "3", "4"],
                "note": "Förmiddag",
            },
        )
        url = reverse("organisation:roster", args=[self.unit_a.pk])
        self.assertRedirects(response, f"{url}?from=2026-11-23")
        self.assertEqual(DutyAssignment.objects.filter(user=self.ruth).count(), 10)
        page = self.client_for(self.alice).get(url)
        self.assertContains(page, "Förmiddag", count=10)

    def test_only_people_who_may_answer_in_the_unit_can_be_rostered(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:duty_add", args=[self.unit_a.pk]),
            {"user": self.vera.pk, "first": "2026-11-23", "weekdays": ["0"]},
        )
        self.assertContains(response, 'id="id_user_error"')
        self.assertFalse(DutyAssignment.objects.exists())

    def test_a_run_ending_before_it_starts_is_refused(self) -> None:
        response = self.client_for(self.alice).post(
            reverse("organisation:duty_add", args=[self.unit_a.pk]),
            {"user": self.ruth.pk, "first": "2026-11-23", "last": "2026-11-20"},
        )
        self.assertContains(response, 'id="id_last_error"')

    def test_viewers_cannot_change_the_roster_and_outsiders_cannot_see_it(self) -> None:
        assignment = services.duty_assign(
            actor=None, unit=self.unit_a, user=self.ruth, dates=[dt.date(2026, 11, 23)]
        )[0]
        remove = reverse("organisation:duty_remove", args=[assignment.pk])
        add = reverse("organisation:duty_add", args=[self.unit_a.pk])
        self.assertEqual(self.client_for(self.vera).get(add).status_code, 403)
        self.assertEqual(self.client_for(self.vera).post(remove).status_code, 403)
        self.assertEqual(self.client_for(self.bob).post(remove).status_code, 404)
        roster = reverse("organisation:roster", args=[self.unit_a.pk])
        self.assertEqual(self.client_for(self.bob).get(roster).status_code, 404)

    def test_a_manager_removes_someone_from_a_day(self) -> None:
        assignment = services.duty_assign(
            actor=None, unit=self.unit_a, user=self.ruth, dates=[dt.date(2026, 11, 24)]
        )[0]
        url = reverse("organisation:duty_remove", args=[assignment.pk])
        client = self.client_for(self.alice)
        self.assertContains(client.get(url), "Ruth will no longer cover the inbox of Kultur")
        response = client.post(url)
        roster = reverse("organisation:roster", args=[self.unit_a.pk])
        self.assertRedirects(response, f"{roster}?from=2026-11-24")
        self.assertFalse(DutyAssignment.objects.exists())
        self.assertTrue(
            AuditEvent.objects.filter(
                target_type="organisation.dutyassignment", action="delete"
            ).exists()
        )


@time_machine.travel(NOW, tick=False)
class RosterFormTests(NarvaroTestCase):
    def test_a_single_day_needs_no_weekdays_and_a_run_without_any_is_refused(self) -> None:
        ruth = make_person("ruth")
        services.membership_grant(
            actor=None, unit=self.unit_a, user=ruth, role=Membership.Role.RESPONDER
        )
        url = reverse("organisation:duty_add", args=[self.unit_a.pk])
        client = self.client_for(self.alice)
        # A Saturday, alone, without ticking any weekday.
        client.post(url, {"user": ruth.pk, "first": "2026-11-28"})
        self.assertEqual(
            list(DutyAssignment.objects.values_list("date", flat=True)), [dt.date(2026, 11, 28)]
        )
        response = client.post(url, {"user": ruth.pk, "first": "2026-11-23", "last": "2026-11-27"})
        self.assertContains(response, 'id="id_weekdays_error"')
