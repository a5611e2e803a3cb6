"""`narvaro records search QUERY`: the "held in order" register from the command line (R12)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from narvaro.archive.models import Direction, Kind
from narvaro.archive.register import record_register_export
from narvaro.archive.selectors import record_register_rows, record_search_for_user
from narvaro.channels.selectors import account_by_handle
from narvaro.core.models import User
from narvaro.lib.commands import OneLineErrorsMixin
from narvaro.organisation.selectors import UnitAccess, get_unit_by_slug

JSON_FIELDS = [
    "platform",
    "remote_id",
    "account",
    "kind",
    "direction",
    "author",
    "created_at",
    "first_seen_at",
    "text",
    "permalink",
    "url",
]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def operator() -> User:
    """Who the command line reads as: an operator with registrar rights, never saved.

    The person at the terminal already has the server and its database; the audit log
    records the search as done by "system" from the command line.
    """
    user = User(username="narvaro-cli", org_role=User.OrgRole.REGISTRAR, is_active=True)
    # A registrar's access (view every unit, change none) with no memberships to look up.
    user._narvaro_unit_access = UnitAccess(  # type: ignore[attr-defined]
        everything=False, can_view_all=True, by_capability={}
    )
    return user


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Search the records archive as a registrar (every unit, secret items included). "
        "`records search QUERY` matches every word of QUERY with Swedish stemming; the "
        "filters narrow it further. Prints one line per item, or with --json a list of "
        "objects with both timestamps in ISO 8601 with time zone. Every search is written "
        "to the audit log as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        search = actions.add_parser("search", help="Search the archive.")
        search.add_argument("query", nargs="?", default="", help="Words to find (all must match).")
        search.add_argument("--unit", help="Only this unit (short name) and the units below.")
        search.add_argument("--account", help="Only this account, as PLATFORM:HANDLE.")
        search.add_argument("--from", dest="date_from", type=_date, help="From this day.")
        search.add_argument("--to", dest="date_to", type=_date, help="To this day, inclusive.")
        search.add_argument("--direction", choices=Direction.values)
        search.add_argument("--kind", choices=Kind.values)
        search.add_argument("--author", help="Author handle or name.")
        search.add_argument("--thread", help="Platform thread id.")
        search.add_argument(
            "--base-url", default="", help="Prefix for record page links, e.g. https://narvaro.x"
        )
        search.add_argument(
            "--json", action="store_true", dest="as_json", help="Print a JSON list."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        filters: dict[str, Any] = {
            "q": options.get("query") or "",
            "date_from": options.get("date_from"),
            "date_to": options.get("date_to"),
            "direction": options.get("direction") or "",
            "kind": options.get("kind") or "",
            "author": options.get("author") or "",
            "thread": options.get("thread") or "",
        }
        if options.get("unit"):
            unit = get_unit_by_slug(options["unit"])
            if unit is None:
                raise CommandError(f"no unit with the short name {options['unit']!r}")
            filters["unit"] = unit.pk
        if options.get("account"):
            platform, _, handle = options["account"].partition(":")
            account = account_by_handle(platform, handle) if handle else None
            if account is None:
                raise CommandError(f"no account {options['account']!r} (PLATFORM:HANDLE)")
            filters["account"] = account.pk
        rows = record_register_rows(record_search_for_user(operator(), **filters))
        record_register_export(
            actor=None,
            rows=rows,
            filters={**filters, "unit": options.get("unit"), "account": options.get("account")},
            fmt="json" if options.get("as_json") else "text",
            via="command line",
        )
        base = options.get("base_url", "").rstrip("/")
        for row in rows:
            row["url"] = base + row["record_url"]
        if options.get("as_json"):
            objects = [{field: row[field] for field in JSON_FIELDS} for row in rows]
            self.stdout.write(json.dumps(objects, ensure_ascii=False, indent=2))
            return
        for row in rows:
            text = " ".join(row["text"].split())
            self.stdout.write(
                f"{row['created_at'] or row['first_seen_at']}  {row['direction']:<8}  "
                f"{row['account']}  {row['author']}  {text[:80]}  {row['url']}"
            )
        self.stdout.write(f"{len(rows)} item(s)")
