"""Signals the radar sends.

`categories_revised`: the classifier read items again (a new model came into use) and some
got another category. Sent after the commit, with `changes` = {item id: (old, new)}. The inbox
lets the conversations those items opened follow, unless a person set their category.
"""

from __future__ import annotations

from django.dispatch import Signal

categories_revised = Signal()
