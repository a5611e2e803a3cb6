"""Claim: the inbox list answers in p95 ≤ 150 ms of server time at 100,000 conversations.

Figure: p50, p95 and p99 server time of the inbox list page (`/inbox/`, with the views and
filters people use: the active list, all conversations, one unit with its subunits, the
overdue list, page 2 of all), served by gunicorn configured as `narvaro serve` configures it
(2 sync workers by default), on SQLite, under a steady load of 4 concurrent connections from
`wrk` (a real HTTP load generator, Debian package `wrk`) in a second process, for two
signed-in people: a responder of one unit who also manages another department, and an
organisation admin (signed in with the second factor) who sees every conversation.
Baseline: the same pages, people and load against a second database of 1,000 conversations,
in the same run, the two measured in alternating rounds so the machine's load falls on both.

Server time is measured inside the gunicorn worker around the WSGI application (a thin
wrapper in this script: wall clock and the worker's CPU time for each request, until the
response is sent); wrk's own client-side latency (which also counts the wait in gunicorn's
backlog with 4 connections on 2 workers) is printed beside it.

Run:  .venv/bin/python bench/inbox_list.py            (100,000 vs 1,000; generating takes minutes)
      .venv/bin/python bench/inbox_list.py --quick    (10,000 vs 1,000, shorter rounds)
Options: --conversations N --baseline M --duration S --rounds R --connections C --workers W
         --home DIR (keep the generated databases in DIR and reuse them on the next run)

The data is generated in code, never committed: an organisation of 19 units in a tree, 20
accounts on five platforms, inbound mentions, comments, replies and direct messages over two
years (captured through `archive.services.capture_batch` in batches of 2,000, as a harvest
stores them), our replies to 55% of them and follow-ups from the sender to some, and the
conversations derived from that archive by `inbox.derive.conversations_derive`, the product's
own path. Items older than NARVARO_INBOX_HISTORY_DAYS open closed conversations, as an
import of history does, so the active list holds the last two weeks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

PASSWORD = "bench-inbox-list-1"
BATCH = 2000
HISTORY_DAYS = 730
TARGET_P95_MS = 150.0

# (slug, name, parent slug, share of the inbound volume on the unit's accounts)
UNITS = [
    ("kommunen", "Strandviks kommun", None, 0.0),
    ("kommunikation", "Kommunikationsavdelningen", "kommunen", 0.30),
    ("kultur", "Kultur och fritid", "kommunen", 0.04),
    ("bibliotek", "Biblioteken", "kultur", 0.08),
    ("museum", "Strandviks museum", "kultur", 0.03),
    ("idrott", "Idrott och friluftsliv", "kultur", 0.03),
    ("samhallsbyggnad", "Samhällsbyggnad", "kommunen", 0.04),
    ("bygglov", "Bygglov", "samhallsbyggnad", 0.06),
    ("gata-park", "Gata och park", "samhallsbyggnad", 0.10),
    ("miljo", "Miljö och hälsa", "samhallsbyggnad", 0.03),
    ("utbildning", "Utbildning", "kommunen", 0.04),
    ("grundskola", "Grundskolan", "utbildning", 0.05),
    ("gymnasium", "Strandviks gymnasium", "utbildning", 0.03),
    ("forskola", "Förskolan", "utbildning", 0.02),
    ("omsorg", "Vård och omsorg", "kommunen", 0.03),
    ("hemtjanst", "Hemtjänsten", "omsorg", 0.02),
    ("aldreboende", "Äldreboenden", "omsorg", 0.01),
    ("raddning", "Räddningstjänsten", "kommunen", 0.05),
    ("turism", "Besöksnäring", "kommunen", 0.04),
]
PLATFORMS = ["mastodon", "facebook", "instagram", "bluesky", "x"]

QUESTIONS = [
    "När öppnar {place} igen efter {event}?",
    "Hur ansöker jag om bygglov för {thing}?",
    "Vem ska jag kontakta om {problem}?",
    "Finns det någon som kan svara på varför {problem}?",
    "Gäller de nya öppettiderna för {place} även under {event}?",
    "Var hittar jag blanketten för {thing}?",
    "Hur lång är handläggningstiden för bygglov just nu?",
    "Kan man boka {place} till en skolklass?",
]
CRITIQUE = [
    "Det är skandal att {problem}, ingen svarar i telefon.",
    "Varför tar det så lång tid? {problem} och ingen gör något.",
    "Dåligt skött av kommunen, {problem} igen.",
    "Jag är besviken: {problem}. Ni borde skämmas.",
]
PRAISE = [
    "Tack för {good}!",
    "Stort tack till personalen på {place} för {good}.",
    "Så bra med {good}, fortsätt så!",
]
OTHER = ["Vilken fin bild från {place}.", "Såg ni {event} i helgen?", "Hej {place}!"]
PLACES = [
    "biblioteket",
    "simhallen",
    "museet",
    "återvinningscentralen",
    "lekplatsen vid torget",
    "kommunhuset",
    "fritidsgården",
    "badplatsen",
]
EVENTS = ["renoveringen", "sommaren", "jullovet", "stormen", "helgen", "valet", "sportlovet"]
THINGS = ["en altan", "ett attefallshus", "en carport", "ett staket", "solceller", "en pool"]
PROBLEMS = [
    "snöröjningen på min gata inte blivit gjord",
    "gatlyktorna på Storgatan är släckta",
    "bussen till skolan inte kommer",
    "soptunnorna inte tömts på två veckor",
    "vattnet är avstängt utan förvarning",
    "cykelvägen är full av grus",
]
GOODS = ["den fina utställningen", "snabbt svar", "en härlig dag", "den nya lekplatsen"]
ANSWERS = [
    "Tack för din fråga! Du hittar informationen på vår webbplats under Bygga och bo.",
    "Vi har skickat vidare till ansvarig enhet, som återkommer i veckan.",
    "Öppettiderna gäller hela året utom röda dagar. Välkommen!",
    "Tack för att du hör av dig. Vi tittar på det och återkommer.",
    "Beklagar! Felanmälan är registrerad och åtgärdas så snart som möjligt.",
]


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- generating one database (runs in its own process: NARVARO_HOME is fixed at set-up) ---------


def _text(rng: Any, handle: str) -> str:
    kind = rng.random()
    templates = (
        QUESTIONS if kind < 0.55 else CRITIQUE if kind < 0.75 else PRAISE if kind < 0.9 else OTHER
    )
    text = rng.choice(templates).format(
        place=rng.choice(PLACES),
        event=rng.choice(EVENTS),
        thing=rng.choice(THINGS),
        problem=rng.choice(PROBLEMS),
        good=rng.choice(GOODS),
    )
    if rng.random() < 0.3:
        text += " " + rng.choice(QUESTIONS + CRITIQUE).format(
            place=rng.choice(PLACES),
            event=rng.choice(EVENTS),
            thing=rng.choice(THINGS),
            problem=rng.choice(PROBLEMS),
            good=rng.choice(GOODS),
        )
    if rng.random() < 0.002:
        text += " Mitt personnummer är 19121212-1212."
    return text


def generate(home: str, conversations: int, seed: int) -> dict[str, Any]:
    """Fill a fresh database in `home` with an organisation and `conversations` conversations."""
    import datetime as dt
    import random

    from _setup import django_on_fresh_sqlite

    django_on_fresh_sqlite(home)
    from django.utils import timezone

    from narvaro.archive.capture import CaptureInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch
    from narvaro.channels import services as channel_services
    from narvaro.core.services import user_create
    from narvaro.inbox.derive import conversations_derive
    from narvaro.inbox.models import Conversation, RoutingRule
    from narvaro.organisation import services as org_services

    if Item.objects.exists():
        sys.exit(f"{home} holds another archive; name an empty folder")
    rng = random.Random(seed)
    units: dict[str, Any] = {}
    for slug, name, parent, _share in UNITS:
        units[slug] = org_services.unit_create(
            actor=None, slug=slug, name=name, parent=units[parent] if parent else None
        )
    accounts: list[Any] = []
    weights: list[float] = []
    for slug, _name, _parent, share in UNITS:
        if not share:
            continue
        count = 2 if share >= 0.1 else 1
        for n in range(count):
            platform = PLATFORMS[(len(accounts) + n) % len(PLATFORMS)]
            handle = f"@{slug}{n or ''}@social.strandvik.example"
            accounts.append(
                channel_services.account_create(
                    actor=None, unit=units[slug], platform=platform, handle=handle
                )
            )
            weights.append(share / count)
    staff = user_create(
        actor=None, username="bench-staff", first_name="Sara", password=PASSWORD, email=""
    )
    org_services.membership_grant(actor=None, unit=units["bibliotek"], user=staff, role="responder")
    org_services.membership_grant(
        actor=None, unit=units["samhallsbyggnad"], user=staff, role="manager"
    )
    user_create(actor=None, username="bench-admin", org_role="admin", password=PASSWORD)
    RoutingRule.objects.create(
        name="Bygglov till Bygglov",
        keywords="bygglov\nattefallshus",
        target_unit=units["bygglov"],
        assignee=staff,
        position=10,
    )

    # Every account's captures in time order (a reply is captured after what it answers).
    now = timezone.now()
    start = now - dt.timedelta(days=HISTORY_DAYS)
    span = (now - start).total_seconds() - 3600
    per_account: dict[int, list[tuple[dt.datetime, CaptureInput]]] = {a.pk: [] for a in accounts}
    platform_of = {a.pk: a.platform for a in accounts}
    authors = [f"@invanare{n}@social.example" for n in range(max(200, conversations // 5))]
    remote = 10**12
    counts = {"inbound": 0, "responses": 0, "follow_ups": 0}
    for _ in range(conversations):
        account = rng.choices(accounts, weights)[0]
        platform = account.platform
        author = rng.choice(authors)
        at = start + dt.timedelta(seconds=rng.random() ** 0.8 * span)
        kind = rng.choices(["mention", "comment", "reply", "dm"], [0.45, 0.25, 0.15, 0.15])[0]
        remote += 1
        inbound_id = f"{platform}-{remote}"
        thread = f"dm-{remote}" if kind == "dm" else ""
        text = _text(rng, author)
        events = per_account[account.pk]
        events.append(
            (
                at,
                CaptureInput(
                    platform=platform,
                    remote_id=inbound_id,
                    kind=kind,
                    direction="received",
                    text=f"@{account.handle.split('@')[1]} {text}" if kind == "mention" else text,
                    raw_payload=json.dumps(
                        {"id": inbound_id, "content": text, "account": author}, ensure_ascii=False
                    ),
                    author_handle=author,
                    author_name=author[1:].split("@")[0].title(),
                    parent_remote_id=f"{platform}-post-{rng.randint(1, 5000)}"
                    if kind in ("comment", "reply")
                    else "",
                    thread_remote_id=thread,
                    permalink=f"https://social.example/{inbound_id}",
                    created_at=at,
                ),
            )
        )
        counts["inbound"] += 1
        if rng.random() < 0.55:
            answered = at + dt.timedelta(minutes=rng.randint(10, 3 * 24 * 60))
            if answered < now:
                remote += 1
                answer_id = f"{platform}-{remote}"
                answer = ("" if kind == "dm" else author + " ") + rng.choice(ANSWERS)
                events.append(
                    (
                        answered,
                        CaptureInput(
                            platform=platform,
                            remote_id=answer_id,
                            kind="dm" if kind == "dm" else "reply",
                            direction="drawn_up",
                            text=answer.strip(),
                            raw_payload=json.dumps({"id": answer_id, "content": answer}),
                            author_handle=account.handle,
                            parent_remote_id=inbound_id,
                            thread_remote_id=thread,
                            created_at=answered,
                        ),
                    )
                )
                counts["responses"] += 1
                if rng.random() < 0.15:
                    later = answered + dt.timedelta(minutes=rng.randint(5, 2 * 24 * 60))
                    if later < now:
                        remote += 1
                        follow = f"{platform}-{remote}"
                        more = _text(rng, author)
                        events.append(
                            (
                                later,
                                CaptureInput(
                                    platform=platform,
                                    remote_id=follow,
                                    kind="dm" if kind == "dm" else "reply",
                                    direction="received",
                                    text=more,
                                    raw_payload=json.dumps({"id": follow, "content": more}),
                                    author_handle=author,
                                    parent_remote_id="" if kind == "dm" else answer_id,
                                    thread_remote_id=thread,
                                    created_at=later,
                                ),
                            )
                        )
                        counts["follow_ups"] += 1
    del platform_of
    started = time.perf_counter()
    captured = 0
    for account in accounts:
        events = sorted(per_account[account.pk], key=lambda pair: pair[0])
        for offset in range(0, len(events), BATCH):
            chunk = [capture for _when, capture in events[offset : offset + BATCH]]
            capture_batch(account=account, captures=chunk, source="bench")
            captured += len(chunk)
    capture_seconds = time.perf_counter() - started
    started = time.perf_counter()
    cpu = time.process_time()
    result = conversations_derive()
    derive_seconds = time.perf_counter() - started
    derive_cpu = time.process_time() - cpu
    made = Conversation.objects.count()
    if made != conversations:
        sys.exit(f"derived {made} conversations, expected {conversations}")
    info = {
        "conversations": made,
        "captured": captured,
        **counts,
        "capture_seconds": round(capture_seconds, 1),
        "derive_seconds": round(derive_seconds, 1),
        "derive_cpu_seconds": round(derive_cpu, 1),
        "derived_inbound": result.inbound,
        "derived_responses": result.responses,
        "statuses": {
            s: Conversation.objects.filter(status=s).count()
            for s in ("new", "open", "answered", "closed")
        },
    }
    Path(home, "bench-ready.json").write_text(json.dumps(info), encoding="utf-8")
    return info


def prepare(home: str) -> dict[str, Any]:
    """Static files, a fresh second-factor code for the admin, and the ids the pages need."""
    from _setup import django_on_fresh_sqlite

    django_on_fresh_sqlite(home)
    from django.core.management import call_command

    from narvaro.core import two_factor
    from narvaro.core.models import User
    from narvaro.organisation.models import Unit

    call_command("collectstatic", interactive=False, verbosity=0)
    admin = User.objects.get(username="bench-admin")
    codes = two_factor.backup_codes_create(user=admin)
    return {
        "admin_code": codes[0],
        "unit_samhallsbyggnad": Unit.objects.get(slug="samhallsbyggnad").pk,
        "unit_kommunikation": Unit.objects.get(slug="kommunikation").pk,
    }


# -- serving: gunicorn as `narvaro serve` runs it, with a timing wrapper --------------------------


class _Timed:
    """The WSGI application, timing each request (wall clock and CPU) until it has been sent."""

    def __init__(self, app: Any, log_dir: str) -> None:
        self.app = app
        self.log_dir = log_dir
        self.log: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.log is None:
            self.log = open(  # noqa: SIM115 - one file per worker, open for its lifetime
                os.path.join(self.log_dir, f"timing-{os.getpid()}.tsv"), "a", buffering=1
            )
        wall, cpu = time.perf_counter(), time.process_time()
        tag = environ.get("HTTP_X_BENCH_RUN", "-")
        path = environ.get("PATH_INFO", "") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
        )
        status: list[str] = []

        def recording_start(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code.split()[0])
            return start_response(code, headers, exc_info)

        body = self.app(environ, recording_start)
        log = self.log

        class Closing:
            def __iter__(self) -> Any:
                return iter(body)

            def close(self) -> None:
                if hasattr(body, "close"):
                    body.close()
                log.write(
                    f"{tag}\t{path}\t{status[0] if status else '-'}\t"
                    f"{(time.perf_counter() - wall) * 1000:.3f}\t"
                    f"{(time.process_time() - cpu) * 1000:.3f}\n"
                )

        return Closing()


def serve(home: str, port: int, workers: int) -> None:
    from _setup import django_on_fresh_sqlite

    django_on_fresh_sqlite(home)
    from django.db import connection
    from gunicorn.app.base import BaseApplication

    from narvaro.config.wsgi import application

    connection.close()
    wrapped = _Timed(application, home)

    class BenchApplication(BaseApplication):  # type: ignore[misc]
        # The same configuration as narvaro.core.management.commands.serve.run_gunicorn.
        def load_config(self) -> None:
            self.cfg.set("bind", f"127.0.0.1:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)

        def load(self) -> Any:
            return wrapped

    BenchApplication().run()


# -- driving: sign in over HTTP, then wrk ------------------------------------------------------

LUA = """
paths = {PATHS}
counter = 0
wrk.headers["Cookie"] = "{COOKIE}"
wrk.headers["X-Bench-Run"] = "{TAG}"
wrk.headers["Accept-Language"] = "sv"
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK {\\"requests\\": %d, \\"errors\\": %d, \\"status_errors\\": %d, \\"p50\\": %.3f, "
    .. "\\"p95\\": %.3f, \\"p99\\": %.3f, \\"seconds\\": %.3f}\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sign_in(base: str, username: str, code: str | None) -> str:
    """Sign in through the real pages (password, then the second factor); the session cookie."""
    import requests

    session = requests.Session()
    page = session.get(f"{base}/sign-in/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    answer = session.post(
        f"{base}/sign-in/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD},
        timeout=30,
    )
    if "two-factor/verify" in answer.url:
        assert code, f"{username} must give a second factor"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        assert token
        answer = session.post(
            f"{base}/two-factor/verify/",
            data={"csrfmiddlewaretoken": token.group(1), "token": code},
            timeout=30,
        )
    check = session.get(f"{base}/inbox/", timeout=60, allow_redirects=False)
    if check.status_code != 200:
        raise SystemExit(f"{username} could not open the inbox: {check.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _check_pages(base: str, cookie: str, paths: list[str]) -> None:
    import requests

    for path in paths:
        response = requests.get(
            base + path, headers={"Cookie": cookie}, timeout=60, allow_redirects=False
        )
        if response.status_code != 200 or "inbox-list" not in response.text:
            raise SystemExit(f"{path}: {response.status_code}, no list of conversations")


def _wrk(
    base: str, cookie: str, paths: list[str], tag: str, seconds: int, connections: int, tmp: str
) -> dict[str, Any]:
    script = Path(tmp, f"{tag}.lua")
    lua = (
        LUA.replace("{PATHS}", "{" + ", ".join(json.dumps(p) for p in paths) + "}")
        .replace("{COOKIE}", cookie)
        .replace("{TAG}", tag)
    )
    script.write_text(lua, encoding="utf-8")
    output = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base + paths[0],
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"^WRK (.*)$", output, re.M)
    assert found, output
    return dict(json.loads(found.group(1)))


def _server_times(home: str) -> dict[str, list[tuple[str, str, float, float]]]:
    """The timing lines the workers wrote: tag -> [(path, status, wall ms, cpu ms)]."""
    runs: dict[str, list[tuple[str, str, float, float]]] = {}
    for log in Path(home).glob("timing-*.tsv"):
        for line in log.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 5:
                runs.setdefault(parts[0], []).append(
                    (parts[1], parts[2], float(parts[3]), float(parts[4]))
                )
    return runs


def _child(args: list[str], env: dict[str, str], **kwargs: Any) -> Any:
    return subprocess.run(
        [sys.executable, str(Path(__file__)), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


def main() -> None:
    import requests

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 vs 1,000, shorter rounds")
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, help="alternating rounds (baseline, then large)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--home", help="keep (and reuse) the generated databases here")
    parser.add_argument("--seed", type=int, default=11)
    # Internal modes, run in child processes.
    parser.add_argument("--generate", nargs=2, metavar=("HOME", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--prepare", metavar="HOME", help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=3, metavar=("HOME", "PORT", "W"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.generate:
        print(json.dumps(generate(options.generate[0], int(options.generate[1]), options.seed)))
        return
    if options.prepare:
        print(json.dumps(prepare(options.prepare)))
        return
    if options.serve:
        serve(options.serve[0], int(options.serve[1]), int(options.serve[2]))
        return

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")
    large = options.conversations or (10_000 if options.quick else 100_000)
    seconds = options.duration or (6 if options.quick else 15)
    rounds = options.rounds or 2
    keep = options.home is not None
    root = Path(options.home or tempfile.mkdtemp(prefix="narvaro-bench-inbox-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "narvaro.config.settings",
        "NARVARO_LOG_LEVEL": "WARNING",
        "NARVARO_SECURE_COOKIES": "false",
        "NARVARO_DEBUG": "false",
    }
    env.pop("NARVARO_DATABASE_URL", None)
    sizes = [options.baseline, large]
    homes = {n: str(root / f"conversations-{n}") for n in sizes}
    generated = {}
    for n in sizes:
        ready = Path(homes[n], "bench-ready.json")
        if ready.exists() and json.loads(ready.read_text())["conversations"] == n:
            generated[n] = json.loads(ready.read_text())
            print(f"{n:>7,} conversations: reusing {homes[n]}")
            continue
        print(f"{n:>7,} conversations: generating in {homes[n]} ...", flush=True)
        out = _child(["--generate", homes[n], str(n), "--seed", str(options.seed)], env)
        generated[n] = json.loads(out.stdout.strip().splitlines()[-1])
        g = generated[n]
        print(
            f"         captured {g['captured']:,} items in {g['capture_seconds']} s; derived "
            f"{g['conversations']:,} conversations in {g['derive_seconds']} s "
            f"({g['conversations'] / max(g['derive_seconds'], 0.001):,.0f}/s, "
            f"CPU {g['derive_cpu_seconds']} s); statuses {g['statuses']}",
            flush=True,
        )

    servers: dict[int, subprocess.Popen[bytes]] = {}
    bases: dict[int, str] = {}
    cookies: dict[tuple[int, str], str] = {}
    paths: dict[int, dict[str, list[str]]] = {}
    try:
        for n in sizes:
            for log in Path(homes[n]).glob("timing-*.tsv"):
                log.unlink()
            info = json.loads(_child(["--prepare", homes[n]], env).stdout.strip().splitlines()[-1])
            server_log = open(Path(homes[n], "gunicorn.log"), "ab")  # noqa: SIM115 - closed below
            port = _free_port()
            servers[n] = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__)),
                    "--serve",
                    homes[n],
                    str(port),
                    str(options.workers),
                ],
                env=env,
                start_new_session=True,
                stdout=server_log,
                stderr=subprocess.STDOUT,
            )
            bases[n] = f"http://127.0.0.1:{port}"
            for _ in range(120):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.5)
            unit = info["unit_samhallsbyggnad"]
            common = [
                "/inbox/",
                "/inbox/?view=all",
                "/inbox/?view=overdue",
                "/inbox/?view=all&page=2",
            ]
            paths[n] = {
                "staff": [*common, f"/inbox/?unit={unit}"],
                "admin": [*common, f"/inbox/?unit={info['unit_kommunikation']}"],
            }
            cookies[(n, "staff")] = _sign_in(bases[n], "bench-staff", None)
            cookies[(n, "admin")] = _sign_in(bases[n], "bench-admin", info["admin_code"])
            for who in ("staff", "admin"):
                _check_pages(bases[n], cookies[(n, who)], paths[n][who])
                for path in paths[n][who] * 2:  # warm up templates and caches
                    requests.get(
                        bases[n] + path,
                        headers={"Cookie": cookies[(n, who)], "X-Bench-Run": "warmup"},
                        timeout=120,
                    )

        tmp = tempfile.mkdtemp(prefix="narvaro-bench-wrk-")
        client: dict[tuple[int, str], list[dict[str, Any]]] = {}
        loads = []
        for r in range(rounds):
            for n in sizes:
                for who in ("staff", "admin"):
                    tag = f"r{r}-{who}"
                    loads.append(os.getloadavg()[0])
                    client.setdefault((n, who), []).append(
                        _wrk(
                            bases[n],
                            cookies[(n, who)],
                            paths[n][who],
                            tag,
                            seconds,
                            options.connections,
                            tmp,
                        )
                    )
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        for process in servers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in servers.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    _report(sizes, homes, paths, client, loads, options, seconds, rounds)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)


def _report(
    sizes: list[int],
    homes: dict[int, str],
    paths: dict[int, dict[str, list[str]]],
    client: dict[tuple[int, str], list[dict[str, Any]]],
    loads: list[float],
    options: Any,
    seconds: int,
    rounds: int,
) -> None:
    baseline, large = sizes
    times = {n: _server_times(homes[n]) for n in sizes}
    print()
    print(
        f"gunicorn {options.workers} sync workers, wrk -t1 -c{options.connections}, "
        f"{rounds} rounds x {seconds} s per person and database; load average during the runs "
        f"{min(loads):.1f}-{max(loads):.1f} (2 cores)"
    )
    left, right = f"baseline {baseline:,}", f"{large:,} conversations"
    print(f"{'':44} {left:>28}   {right:>28}")
    print(f"{'':44} {'p50 / p95 / p99 ms':>28}   {'p50 / p95 / p99 ms':>28}")

    def triple(values: list[float]) -> str:
        return (
            f"{statistics.median(values):6.1f} / {_percentile(values, 0.95):6.1f} / "
            f"{_percentile(values, 0.99):6.1f}"
        )

    summary: dict[str, Any] = {}
    for who, label in (("staff", "responder + manager"), ("admin", "organisation admin")):
        rows: dict[str, dict[int, tuple[list[float], list[float]]]] = {}
        for n in sizes:
            for tag, lines in times[n].items():
                if not tag.endswith(f"-{who}"):
                    continue
                for path, status, wall, cpu in lines:
                    if status != "200":
                        raise SystemExit(f"{n}: {path} answered {status} under load")
                    generic = re.sub(r"unit=\d+", "unit=<unit>", path)
                    walls, cpus = rows.setdefault(generic, {}).setdefault(n, ([], []))
                    walls.append(wall)
                    cpus.append(cpu)
        everything = {
            n: (
                [w for per in rows.values() for w in per.get(n, ([], []))[0]],
                [c for per in rows.values() for c in per.get(n, ([], []))[1]],
            )
            for n in sizes
        }
        print(f"{label}:")
        for path in sorted(rows):
            print(
                f"  {path:42} {triple(rows[path][baseline][0]):>28}   "
                f"{triple(rows[path][large][0]):>28}"
            )
            print(
                f"  {'  CPU time':42} {triple(rows[path][baseline][1]):>28}   "
                f"{triple(rows[path][large][1]):>28}"
            )
        print(
            f"  {'all pages, server time (wall clock)':42} {triple(everything[baseline][0]):>28}   "
            f"{triple(everything[large][0]):>28}"
        )
        print(
            f"  {'all pages, server CPU time':42} {triple(everything[baseline][1]):>28}   "
            f"{triple(everything[large][1]):>28}"
        )
        wrk_line = {}
        for n in sizes:
            runs = client[(n, who)]
            wrk_line[n] = (
                f"{statistics.median(r['p50'] for r in runs):6.1f} / "
                f"{max(r['p95'] for r in runs):6.1f} / {max(r['p99'] for r in runs):6.1f}"
            )
            errors = sum(r["errors"] + r["status_errors"] for r in runs)
            if errors:
                raise SystemExit(f"{n}: {errors} failed requests under load")
        print(
            f"  {'wrk latency at the client (incl. queueing)':42} {wrk_line[baseline]:>28}   "
            f"{wrk_line[large]:>28}"
        )
        rps = {
            n: sum(r["requests"] for r in client[(n, who)])
            / sum(r["seconds"] for r in client[(n, who)])
            for n in sizes
        }
        print(f"  {'requests/s':42} {rps[baseline]:>28.1f}   {rps[large]:>28.1f}")
        summary[who] = {
            "p95_ms": _percentile(everything[large][0], 0.95),
            "p95_cpu_ms": _percentile(everything[large][1], 0.95),
            "requests": len(everything[large][0]),
        }
    worst = max(s["p95_ms"] for s in summary.values())
    worst_cpu = max(s["p95_cpu_ms"] for s in summary.values())
    print(
        f"target p95 <= {TARGET_P95_MS:.0f} ms of server time at {large:,}: "
        f"{'MET' if worst <= TARGET_P95_MS else 'NOT MET'} (worst person's p95 {worst:.1f} ms "
        f"wall clock, {worst_cpu:.1f} ms CPU)"
    )
    del paths


if __name__ == "__main__":
    main()
