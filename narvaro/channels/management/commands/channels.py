"""`narvaro channels`: connect an account to its platform and harvest it.

    narvaro channels connect mastodon INSTANCE_URL --token TOKEN [--unit SLUG] [--json]
    narvaro channels connect mastodon INSTANCE_URL --oauth [--unit SLUG] [--json]
    narvaro channels connect bluesky PDS_URL --handle H --app-password P [--unit SLUG] [--json]
    narvaro channels harvest PLATFORM:HANDLE [--json]
    narvaro channels status PLATFORM:HANDLE [--json]
    narvaro channels stream [--account PLATFORM:HANDLE]

`stream` is a long-running process (a service of its own next to `narvaro worker`): it holds
the Mastodon user stream of each connected account open and archives what arrives at once;
after every (re)connect it polls from the harvest cursor, so a dropped stream leaves no
gap. It runs only when NARVARO_MASTODON_STREAMING is on, and stops cleanly on SIGTERM.

`connect` checks the credentials with the platform before storing anything, stores them
encrypted and never prints them. Connecting an account that is already registered (or
connected) keeps its records and cursor: that is how a revoked token is replaced.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from narvaro.channels.connectors import supported_platforms
from narvaro.channels.connectors.base import ConnectorError
from narvaro.channels.harvest import (
    account_ref,
    build_connector,
    connection_save,
    harvest_run,
)
from narvaro.channels.models import Account, CaptureGap, Connection
from narvaro.channels.services import account_create
from narvaro.lib.commands import OneLineErrorsMixin


def _secret(value: str, what: str) -> str:
    """A secret from the option, or from standard input when it is `-` (keeps it out of ps)."""
    if value == "-":
        value = sys.stdin.readline().strip()
    if not value:
        raise CommandError(f"{what} is empty")
    return value


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Connect registered accounts to Mastodon or Bluesky and harvest them into the archive. "
        "Verbs: connect, harvest, status, stream."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        connect = verbs.add_parser("connect", help="connect an account (checks the credentials)")
        connect.add_argument("platform", choices=supported_platforms())
        connect.add_argument("url", help="Mastodon instance or Bluesky PDS address")
        connect.add_argument(
            "--token",
            help="Mastodon access token (- reads standard input; a token that starts with - "
            "is written --token=VALUE)",
        )
        connect.add_argument(
            "--oauth",
            action="store_true",
            help="Mastodon: register Narvaro on the instance, print the sign-in address and "
            "read the code it shows from standard input",
        )
        connect.add_argument("--handle", help="Bluesky handle")
        connect.add_argument("--app-password", help="Bluesky app password (- reads stdin)")
        connect.add_argument("--unit", help="unit short name, to register a new account")
        connect.add_argument("--json", action="store_true", dest="as_json")
        harvest = verbs.add_parser("harvest", help="harvest one account now")
        harvest.add_argument("account", help="PLATFORM:HANDLE")
        harvest.add_argument("--json", action="store_true", dest="as_json")
        status = verbs.add_parser("status", help="capture health of one account")
        status.add_argument("account", help="PLATFORM:HANDLE")
        status.add_argument("--json", action="store_true", dest="as_json")
        stream = verbs.add_parser(
            "stream",
            help="hold the Mastodon user streams open and archive what arrives (long-running)",
        )
        stream.add_argument("--account", default="", help="PLATFORM:HANDLE (default: all)")
        stream.add_argument(
            "--seconds",
            type=float,
            default=None,
            help="stop after this many seconds (default: run until stopped)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "connect":
            self._connect(options)
        elif verb == "harvest":
            self._harvest(options)
        elif verb == "stream":
            self._stream(options)
        else:
            self._status(options)

    # -- connect ----------------------------------------------------------------------------

    def _connect(self, options: dict[str, Any]) -> None:
        from narvaro.organisation.selectors import get_unit_by_slug

        platform: str = options["platform"]
        url: str = options["url"].rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise CommandError(f"{url!r}: give the address with http:// or https://")
        if platform == "mastodon":
            if options.get("oauth"):
                credentials = self._oauth(url)
            elif options.get("token"):
                credentials = {"access_token": _secret(options["token"], "--token")}
            else:
                raise CommandError("connect mastodon needs --token TOKEN or --oauth")
            handle_hint = ""
        else:
            if not options.get("handle") or not options.get("app_password"):
                raise CommandError("connect bluesky needs --handle H and --app-password P")
            credentials = {
                "handle": options["handle"],
                "app_password": _secret(options["app_password"], "--app-password"),
            }
            handle_hint = options["handle"]
        unit = None
        if options.get("unit"):
            unit = get_unit_by_slug(options["unit"])
            if unit is None:
                raise CommandError(f"--unit {options['unit']!r}: no unit has that short name")
        connector = build_connector(
            platform=platform, base_url=url, credentials=credentials, handle=handle_hint
        )
        try:
            profile = connector.verify()
        except ConnectorError as exc:
            raise CommandError(f"{platform} at {url} refused the credentials: {exc}") from exc
        account = Account.objects.filter(platform=platform, handle=profile.handle).first()
        if account is None:
            if unit is None:
                raise CommandError(
                    f"No account {platform}:{profile.handle} in the register. Name its unit "
                    "with --unit SLUG to add it as proposed."
                )
            account = account_create(
                actor=None,
                unit=unit,
                platform=platform,
                handle=profile.handle,
                display_name=profile.display_name[:200],
                profile_url=profile.url if profile.url.startswith("http") else "",
            )
        connection_save(
            actor=None, account=account, base_url=url, credentials=credentials, profile=profile
        )
        ref = account_ref(account)
        if options["as_json"]:
            self.stdout.write(json.dumps({"account": ref}))
        else:
            self.stdout.write(f"Connected {ref}; the first harvest runs with the next worker tick.")

    def _oauth(self, url: str) -> dict[str, str]:
        from narvaro.channels.connectors.mastodon import oauth_finish, oauth_start

        try:
            client, address = oauth_start(url)
        except ConnectorError as exc:
            raise CommandError(str(exc)) from exc
        sys.stderr.write(
            f"Open this address, sign in as the account and approve Narvaro:\n{address}\n"
            "Then paste the code the instance shows: "
        )
        sys.stderr.flush()
        code = sys.stdin.readline().strip()
        if not code:
            raise CommandError("no code given; nothing was stored")
        try:
            return oauth_finish(url, client, code)
        except ConnectorError as exc:
            raise CommandError(f"mastodon at {url} refused the code: {exc}") from exc

    # -- harvest / status -------------------------------------------------------------------

    def _connection(self, ref: str) -> Connection:
        platform, sep, handle = ref.partition(":")
        if not sep or not handle:
            raise CommandError(f"{ref!r}: write the account as PLATFORM:HANDLE")
        connection = (
            Connection.objects.select_related("account")
            .filter(account__platform=platform, account__handle=handle)
            .first()
        )
        if connection is None:
            raise CommandError(
                f"{ref} is not connected; run `narvaro channels connect {platform} URL ...`"
            )
        return connection

    def _harvest(self, options: dict[str, Any]) -> None:
        connection = self._connection(options["account"])
        report = harvest_run(connection)
        data = report.as_dict()
        if options["as_json"]:
            self.stdout.write(json.dumps(data, sort_keys=True))
        else:
            self.stdout.write(
                f"{report.items} new items, {report.versions} new versions, "
                f"{report.deletions} deletions, {report.media} media, "
                f"{report.duplicates_skipped} already archived, {report.gaps} open gap(s)"
            )
            if report.error:
                self.stdout.write(f"  {report.status}: {report.error}")
        if report.status != "ok":
            sys.exit(1)

    def _status(self, options: dict[str, Any]) -> None:
        connection = self._connection(options["account"])
        gaps = list(CaptureGap.objects.filter(account=connection.account).order_by("start"))
        data = {
            "account": account_ref(connection.account),
            "status": connection.status,
            "last_success_at": _iso(connection.last_success_at),
            "next_run_at": _iso(connection.next_run_at),
            "consecutive_failures": connection.consecutive_failures,
            "last_error": connection.last_error,
            "gaps": [
                {
                    "start": _iso(g.start),
                    "end": _iso(g.end),
                    "reason": g.reason,
                    "status": g.status,
                }
                for g in gaps
            ],
        }
        if options["as_json"]:
            self.stdout.write(json.dumps(data, sort_keys=True))
        else:
            for key, value in data.items():
                self.stdout.write(f"{key}: {value}")

    def _stream(self, options: dict[str, Any]) -> None:
        import signal
        import threading

        from narvaro.channels.streaming import Streamer, stream_connections, streaming_enabled

        if not streaming_enabled():
            raise CommandError(
                "Streaming is off. Set NARVARO_MASTODON_STREAMING=true to run it; the "
                "scheduled harvests capture everything without it, only later."
            )
        ref: str = options["account"]
        if ref:
            self._connection(ref)  # a clear error for an account that is not connected
        connections = stream_connections(ref)
        if not connections:
            raise CommandError(
                f"{ref} has no push stream in Narvaro (only Mastodon streams)"
                if ref
                else "No connected account has a push stream (only Mastodon streams)."
            )
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        names = ", ".join(account_ref(c.account) for c in connections)
        self.stdout.write(f"Streaming {names}; stop with Ctrl-C or SIGTERM.")
        self.stdout.flush()
        counts = Streamer(connections).run(stop, timeout=options["seconds"])
        self.stdout.write(json.dumps(counts.as_dict(), sort_keys=True))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
