"""Response targets of the inbox, in business time (R14).

A conversation's answer is due when the response target of its unit (its own, inherited, or
one working day) has passed in the organisation's business hours, counted from the moment the
sender started waiting: something that arrives on a Friday evening is due during Monday, and
a holiday does not count. `TargetClock` loads the calendar and every unit's target once (two
queries) and then computes for any number of conversations without another query.

The due moment is stored on the conversation when it starts waiting, so the overdue list is a
plain indexed filter (`due_at < now`). A change of business hours or of a target applies to
conversations that start waiting afterwards; `conversations_due_recompute` applies it to those
waiting now.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from narvaro.organisation.business_time import BusinessCalendar


class TargetClock:
    """Due times and business durations for many conversations, loading what it needs once."""

    def __init__(self, calendar: BusinessCalendar | None = None) -> None:
        if calendar is not None:
            self.__dict__["calendar"] = calendar

    @cached_property
    def calendar(self) -> BusinessCalendar:
        from narvaro.organisation.selectors import business_calendar_load

        return business_calendar_load()

    @cached_property
    def targets(self) -> dict[int, dt.timedelta]:
        from narvaro.organisation.selectors import unit_response_targets

        return unit_response_targets(self.calendar)

    def target(self, unit_id: int) -> dt.timedelta:
        return self.targets.get(unit_id) or self.calendar.working_day_length()

    def due_at(self, unit_id: int, start: dt.datetime) -> dt.datetime:
        """When the answer to something the unit received at `start` is due."""
        return self.calendar.deadline(start, self.target(unit_id))

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time between `start` and `end`."""
        return self.calendar.duration(start, end)


def conversations_due_recompute() -> int:
    """Recompute the due moment of every conversation waiting for us (after a change of
    business hours, holidays or targets); return how many changed."""
    from narvaro.inbox.models import ACTIVE_STATUSES, Conversation

    clock = TargetClock()
    changed = []
    waiting = Conversation.objects.filter(
        status__in=ACTIVE_STATUSES, waiting_since__isnull=False
    ).only("pk", "unit_id", "waiting_since", "due_at")
    for conversation in waiting.iterator(chunk_size=2000):
        assert conversation.waiting_since is not None
        due = clock.due_at(conversation.unit_id, conversation.waiting_since)
        if due != conversation.due_at:
            conversation.due_at = due
            changed.append(conversation)
    Conversation.objects.bulk_update(changed, ["due_at"], batch_size=1000)
    return len(changed)
