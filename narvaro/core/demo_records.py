"""The demo's records: a few days of posts, questions, critique and replies on its accounts.

Captured through the archive's single writer, like any harvest, so the inbox, the radar and
moderation derive from them exactly as they would from a real account. Loaded once: when the
first demo item is already in the archive, nothing is added (the times are relative to the
first load, so a second load would otherwise record edits).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from django.utils import timezone

from narvaro.archive.capture import CaptureInput
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.channels.models import Account
from narvaro.core.models import User
from narvaro.inbox.derive import conversations_derive
from narvaro.inbox.models import SavedReply
from narvaro.organisation.models import Unit

HOST = "https://social.example"


@dataclass(frozen=True)
class _Demo:
    key: str
    account: str  # the account's handle (Mastodon)
    hours_ago: float
    text: str
    author: str = ""  # empty: the account itself
    name: str = ""
    kind: str = ""
    parent: str = ""
    thread: str = ""


ITEMS = [
    _Demo(
        "bib-p1",
        "@bibliotek@social.example",
        70,
        "Från 1 december har stadsbiblioteket öppet vardagar 8–20. Välkommen!",
    ),
    _Demo(
        "bib-q1",
        "@bibliotek@social.example",
        2,
        "Gäller de nya öppettiderna även lördagar? Och kan man lämna tillbaka böcker i "
        "automaten när det är stängt?",
        "@karin@social.example",
        "Karin Berg",
        parent="bib-p1",
    ),
    _Demo(
        "bib-q2",
        "@bibliotek@social.example",
        26,
        "Hur gör jag för att låna e-böcker? Jag hittar inte appen.",
        "@omar@social.example",
        "Omar",
        parent="bib-p1",
    ),
    _Demo(
        "bib-a2",
        "@bibliotek@social.example",
        24,
        "@omar@social.example Hej Omar! E-böcker lånar du i appen Libby med ditt lånekort och "
        "din PIN-kod. Fråga oss i disken om du vill ha hjälp att komma igång.",
        parent="bib-q2",
    ),
    _Demo(
        "bib-q3",
        "@bibliotek@social.example",
        20,
        "Toppen! Tack för längre öppettider, det behövs verkligen.",
        "@lisa@social.example",
        "Lisa",
        parent="bib-p1",
    ),
    _Demo(
        "bib-q4",
        "@bibliotek@social.example",
        5,
        "@bibliotek Varför har ni tagit bort dagstidningarna i läsesalen? Dåligt beslut, "
        "många äldre saknar dem.",
        "@per@social.example",
        "Per Ek",
        kind="mention",
    ),
    _Demo(
        "bib-d1",
        "@bibliotek@social.example",
        1,
        "Hej, jag har fått en påminnelse om en bok som jag redan har lämnat tillbaka. "
        "Mitt personnummer är 19121212-1212.",
        "@maria@social.example",
        "Maria",
        kind="dm",
        thread="dm-maria",
    ),
    _Demo(
        "gp-p1",
        "@gatapark@social.example",
        80,
        "Snöröjningen pågår i hela kommunen. Huvudgator och busslinjer först, sedan bostadsgator.",
    ),
    _Demo(
        "gp-q1",
        "@gatapark@social.example",
        75,
        "När plogas Björkvägen? Vi har inte kunnat ta oss ut med bilen på två dagar!",
        "@anders@social.example",
        "Anders",
        parent="gp-p1",
    ),
    _Demo(
        "gp-q2",
        "@gatapark@social.example",
        4,
        "Det är helt oacceptabelt att gångbanorna vid skolan inte är sandade. Någon kommer "
        "att skada sig.",
        "@eva@social.example",
        "Eva",
        parent="gp-p1",
    ),
    _Demo(
        "ks-q1",
        "@strandvik@social.example",
        3,
        "@strandvik Var hittar jag protokollet från senaste kommunfullmäktige?",
        "@jonas@social.example",
        "Jonas",
        kind="mention",
    ),
]

SAVED_REPLIES = [
    (
        "bibliotek",
        "Öppettider",
        "sv",
        "answer",
        "Hej {name}! Stadsbiblioteket har öppet vardagar 8–20 och lördagar 10–15. "
        "Bokautomaten i entrén tar emot böcker dygnet runt. /{signature}, {unit}",
    ),
    (
        "bibliotek",
        "Opening hours",
        "en",
        "answer",
        "Hi {name}! The city library is open weekdays 8–20 and Saturdays 10–15. The book return "
        "by the entrance is open around the clock. /{signature}, {unit}",
    ),
    (
        "gata-park",
        "Snöröjning",
        "sv",
        "answer",
        "Hej {name}! Vi plogar huvudgator och busslinjer först och bostadsgator inom 24 timmar "
        "efter att snöfallet har upphört. /{signature}, {unit}",
    ),
    (
        "kommunledning",
        "Enskilt ärende – hänvisning",
        "sv",
        "referral",
        "Hej {name}! Vi kan inte hantera enskilda ärenden här, eftersom de kan innehålla "
        "personuppgifter. Kontakta oss på {contact} så hjälper vi dig. /{signature}",
    ),
]


def _remote_id(handle: str, key: str) -> str:
    user = handle.lstrip("@").split("@")[0]
    return f"{HOST}/users/{user}/statuses/demo-{key}"


def demo_records_load(author: User | None = None) -> int:
    """Capture the demo's records and saved replies once; return how many items were added."""
    if Item.objects.filter(remote_id__contains="/statuses/demo-").exists():
        return 0
    now = timezone.now()
    accounts = {
        a.handle: a
        for a in Account.objects.filter(handle__in={d.account for d in ITEMS}, platform="mastodon")
    }
    ids = {d.key: _remote_id(d.author or d.account, d.key) for d in ITEMS}
    added = 0
    for handle, account in accounts.items():
        captures = []
        for demo in ITEMS:
            if demo.account != handle:
                continue
            own = not demo.author
            kind = demo.kind or ("reply" if demo.parent else "post")
            created = now - dt.timedelta(hours=demo.hours_ago)
            remote_id = ids[demo.key]
            payload = {
                "id": remote_id,
                "uri": remote_id,
                "content": demo.text,
                "created_at": created.isoformat(),
                "in_reply_to": ids.get(demo.parent),
                "account": demo.author or handle,
                "visibility": "direct" if kind == "dm" else "public",
            }
            captures.append(
                CaptureInput(
                    platform="mastodon",
                    remote_id=remote_id,
                    kind=kind,
                    direction="drawn_up" if own else "received",
                    text=demo.text,
                    raw_payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    author_handle=demo.author or handle,
                    author_name=demo.name or account.display_name,
                    author_platform_id=(demo.author or handle).lstrip("@").split("@")[0],
                    parent_remote_id=ids.get(demo.parent, ""),
                    thread_remote_id=demo.thread,
                    permalink=remote_id.replace("/users/", "/@").replace("/statuses/", "/"),
                    visibility="direct" if kind == "dm" else "public",
                    created_at=created,
                )
            )
        added += capture_batch(account=account, captures=captures, source="demo").items
    units = {u.slug: u for u in Unit.objects.filter(slug__in={r[0] for r in SAVED_REPLIES})}
    for slug, title, language, purpose, body in SAVED_REPLIES:
        if slug in units and not SavedReply.objects.filter(unit=units[slug], title=title).exists():
            SavedReply.objects.create(
                unit=units[slug],
                title=title,
                language=language,
                purpose=purpose,
                body=body,
                created_by=author,
            )
    conversations_derive()
    return added
