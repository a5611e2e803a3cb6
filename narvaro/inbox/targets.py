"""Response targets of the inbox: when an answer is due, and how long answering took (R14).

Interim: measured in calendar time until the organisation's business calendar is wired in.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_TARGET = dt.timedelta(days=1)


class TargetClock:
    """Due times and elapsed times for many conversations, loading what it needs once."""

    def due_at(self, unit_id: int, start: dt.datetime) -> dt.datetime:
        return start + DEFAULT_TARGET

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        return end - start
