"""The demo organisation: a fictional municipality, its units, accounts and one person per role.

Loading is idempotent: every object is looked up by its natural key first, so running
`narvaro demo` again changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from dataclasses import dataclass

from django.db import transaction

from narvaro.channels import services as channel_services
from narvaro.channels.models import Account, CommentPolicy
from narvaro.core import services as core_services
from narvaro.core import two_factor
from narvaro.core.models import User
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership, Unit

DEMO_PASSWORD = "narvaro-demo"
ORGANISATION = "Strandviks kommun"

# slug, name, parent slug, description, audience, voice
UNITS = [
    (
        "kommunledning",
        "Kommunledningen",
        None,
        "Kommunstyrelsens förvaltning och kommunikationsenheten.",
        "Alla invånare, media och företag i Strandvik.",
        "Saklig, tydlig och öppen.",
    ),
    (
        "kultur",
        "Kultur och fritid",
        "kommunledning",
        "Bibliotek, museum, kulturskola och fritidsgårdar.",
        "Invånare och besökare som är intresserade av kultur.",
        "Inbjudande och personlig.",
    ),
    (
        "bibliotek",
        "Biblioteket",
        "kultur",
        "Stadsbiblioteket och tre filialer.",
        "Låntagare, barnfamiljer, studenter.",
        "Vänlig och nyfiken, gärna med boktips.",
    ),
    (
        "museum",
        "Strandviks museum",
        "kultur",
        "Kulturhistoriskt museum och arkiv.",
        "Besökare, forskare, skolklasser.",
        "Kunnig och berättande.",
    ),
    (
        "skola",
        "Utbildning",
        "kommunledning",
        "Förskolor, grundskolor och gymnasiet.",
        "Vårdnadshavare och elever.",
        "Trygg, tydlig och snabb vid störningar.",
    ),
    (
        "gata-park",
        "Gata och park",
        "kommunledning",
        "Vägar, snöröjning, parker och lekplatser.",
        "Alla som rör sig i kommunen.",
        "Rak och praktisk, med aktuella störningar.",
    ),
    (
        "raddningstjanst",
        "Räddningstjänsten",
        "kommunledning",
        "Räddningstjänst och krisberedskap.",
        "Alla invånare, särskilt vid kris.",
        "Lugn, saklig och handlingsinriktad.",
    ),
    (
        "socialtjanst",
        "Socialtjänsten",
        "kommunledning",
        "Individ- och familjeomsorg, äldreomsorg.",
        "Invånare som behöver stöd och deras anhöriga.",
        "Respektfull; aldrig enskilda ärenden i kanalen.",
    ),
]

# platform, handle, unit slug, display name, kind, office, state
ACCOUNTS = [
    (
        "mastodon",
        "@strandvik@social.example",
        "kommunledning",
        "Strandviks kommun",
        "unit",
        "",
        "active",
    ),
    ("bluesky", "strandvik.example.se", "kommunledning", "Strandviks kommun", "unit", "", "active"),
    ("facebook", "strandvikskommun", "kommunledning", "Strandviks kommun", "unit", "", "active"),
    ("instagram", "strandvikskommun", "kommunledning", "Strandviks kommun", "unit", "", "active"),
    ("x", "@strandvik", "kommunledning", "Strandviks kommun", "unit", "", "closing"),
    (
        "mastodon",
        "@kommundirektoren@social.example",
        "kommunledning",
        "Kommundirektören",
        "role",
        "Kommundirektör",
        "proposed",
    ),
    ("instagram", "strandvik_kultur", "kultur", "Kultur i Strandvik", "unit", "", "active"),
    ("facebook", "kulturistrandvik", "kultur", "Kultur i Strandvik", "unit", "", "active"),
    (
        "mastodon",
        "@bibliotek@social.example",
        "bibliotek",
        "Strandviks bibliotek",
        "unit",
        "",
        "active",
    ),
    (
        "bluesky",
        "bibliotek.strandvik.example.se",
        "bibliotek",
        "Strandviks bibliotek",
        "unit",
        "",
        "active",
    ),
    ("instagram", "strandviksbibliotek", "bibliotek", "Strandviks bibliotek", "unit", "", "active"),
    ("facebook", "strandviksmuseum", "museum", "Strandviks museum", "unit", "", "active"),
    ("instagram", "strandviksmuseum", "museum", "Strandviks museum", "unit", "", "active"),
    (
        "bluesky",
        "museum.strandvik.example.se",
        "museum",
        "Strandviks museum",
        "unit",
        "",
        "proposed",
    ),
    ("facebook", "utbildningstrandvik", "skola", "Utbildning i Strandvik", "unit", "", "active"),
    ("instagram", "strandvik_gymnasiet", "skola", "Strandviksgymnasiet", "unit", "", "active"),
    ("x", "@strandvik_gata", "gata-park", "Gata och park Strandvik", "unit", "", "closed"),
    (
        "mastodon",
        "@gatapark@social.example",
        "gata-park",
        "Gata och park Strandvik",
        "unit",
        "",
        "active",
    ),
    (
        "facebook",
        "raddningstjanstenstrandvik",
        "raddningstjanst",
        "Räddningstjänsten Strandvik",
        "unit",
        "",
        "active",
    ),
    ("x", "@strandvik_rtj", "raddningstjanst", "Räddningstjänsten Strandvik", "unit", "", "active"),
    (
        "bluesky",
        "raddning.strandvik.example.se",
        "raddningstjanst",
        "Räddningstjänsten Strandvik",
        "unit",
        "",
        "active",
    ),
    (
        "facebook",
        "socialtjanstenstrandvik",
        "socialtjanst",
        "Socialtjänsten Strandvik",
        "unit",
        "",
        "proposed",
    ),
]

# username, first name, last name, organisation-wide role, (unit slug, unit role, needs approval)
PEOPLE = [
    ("admin", "Alva", "Admin", User.OrgRole.ADMIN, None),
    ("registrator", "Rut", "Registrator", User.OrgRole.REGISTRAR, None),
    ("chef", "Maja", "Kommunikationschef", "", ("kommunledning", Membership.Role.MANAGER, False)),
    ("godkannare", "Gustav", "Godkännare", "", ("kultur", Membership.Role.APPROVER, False)),
    ("moderator", "Mona", "Moderator", "", ("bibliotek", Membership.Role.MODERATOR, False)),
    ("publicist", "Pelle", "Publicist", "", ("bibliotek", Membership.Role.PUBLISHER, True)),
    ("svarare", "Sara", "Svarare", "", ("gata-park", Membership.Role.RESPONDER, False)),
    ("lasare", "Lars", "Läsare", "", ("museum", Membership.Role.VIEWER, False)),
]

POLICY_TEXT = """Välkommen att kommentera på Strandviks kommuns konton i sociala medier.

Det du skriver här – inlägg, kommentarer och privata meddelanden – blir allmänna handlingar och sparas.
Kommentarer syns för alla som besöker kontot.

Vi tar bort eller döljer inlägg som
- innehåller hets mot folkgrupp, olaga hot, barnpornografi, olaga våldsskildring eller upphovsrättsintrång,
- är kränkande, innehåller känsliga personuppgifter eller sekretessbelagda uppgifter,
- är reklam eller inte hör till ämnet.
Vi kan också blockera användare och polisanmäla brott.

Vi hanterar inte enskilda ärenden här. Kontakta oss säkert via strandvik.example.se/kontakt.

Kommunen och plattformen är gemensamt personuppgiftsansvariga för uppgifter som samlas in på sidan.
Läs mer om hur vi behandlar personuppgifter på strandvik.example.se/personuppgifter.
Frågor om tillgänglighet: tillganglighet@strandvik.example.se."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str
    totp_secret: str = ""
    backup_codes: tuple[str, ...] = ()


@transaction.atomic
def demo_load() -> list[DemoLogin]:
    """Create the demo organisation if it is not there yet, and return the demo logins."""
    units: dict[str, Unit] = {}
    for slug, name, parent, description, audience, voice in UNITS:
        unit = Unit.objects.filter(slug=slug).first()
        if unit is None:
            unit = org_services.unit_create(
                actor=None,
                slug=slug,
                name=name,
                parent=units.get(parent) if parent else None,
                description=description,
                audience=audience,
                voice=voice,
                contact_email=f"{slug}@strandvik.example.se",
            )
        units[slug] = unit

    logins: list[DemoLogin] = []
    people: dict[str, User] = {}
    for username, first, last, org_role, membership in PEOPLE:
        person = User.objects.filter(username=username).first()
        if person is None:
            person = core_services.user_create(
                actor=None,
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@strandvik.example.se",
                org_role=org_role,
                password=DEMO_PASSWORD,
            )
        people[username] = person
        description = str(User.OrgRole(org_role).label) if org_role else ""
        if membership is not None:
            slug, role, approval = membership
            if not Membership.objects.filter(unit=units[slug], user=person).exists():
                org_services.membership_grant(
                    actor=None, unit=units[slug], user=person, role=role, requires_approval=approval
                )
            description = f"{Membership.Role(role).label}, {units[slug].name}"
        secret, codes = "", tuple[str, ...]()
        if person.requires_two_factor:
            secret, codes = _demo_second_factor(person)
        logins.append(DemoLogin(username, DEMO_PASSWORD, str(description), secret, codes))

    policy = CommentPolicy.objects.filter(name="Kommentarspolicy för Strandviks kommun").first()
    if policy is None:
        policy = channel_services.policy_create(
            actor=None, name="Kommentarspolicy för Strandviks kommun", text=POLICY_TEXT
        )
        channel_services.policy_version_publish(
            actor=None,
            version=policy.versions.get(number=1),
            published_url="https://strandvik.example.se/kommentarspolicy",
        )
    version = policy.versions.order_by("-number").first()

    staff = [people["chef"]]
    for platform, handle, slug, display, kind, office, state in ACCOUNTS:
        if Account.objects.filter(platform=platform, handle=handle).exists():
            continue
        complete = state != "proposed"
        account = channel_services.account_create(
            actor=None,
            unit=units[slug],
            platform=platform,
            handle=handle,
            display_name=display,
            profile_url=_profile_url(platform, handle),
            kind=kind,
            officeholder_title=office,
            purpose=f"{display}: nyheter, svar på frågor och dialog med invånarna.",
            audience=units[slug].audience,
            opened_on=dt.date(2021, 3, 1) if complete else None,
            retention_decision_ref="KS 2021/118" if complete else "",
            dpia_ref="KS 2021/119" if complete else "",
            comment_policy_version=version,
            responsible=staff,
            moderators=[people["moderator"]] if complete else [],
        )
        for target in _path_to(state):
            channel_services.account_transition(actor=None, account=account, to_state=target)

    # A few days of questions, critique and answers, so the inbox and the records have content.
    from narvaro.core.demo_records import demo_records_load

    demo_records_load(author=people["chef"])
    return logins


def _path_to(state: str) -> list[str]:
    return {
        "proposed": [],
        "active": ["active"],
        "closing": ["active", "closing"],
        "closed": ["active", "closing", "closed"],
    }[state]


def _profile_url(platform: str, handle: str) -> str:
    bare = handle.lstrip("@")
    if platform == "mastodon":
        user, _, host = bare.partition("@")
        return f"https://{host}/@{user}"
    return {
        "bluesky": f"https://bsky.app/profile/{bare}",
        "x": f"https://x.com/{bare}",
        "facebook": f"https://www.facebook.com/{bare}",
        "instagram": f"https://www.instagram.com/{bare}/",
    }.get(platform, "")


def _demo_second_factor(person: User) -> tuple[str, tuple[str, ...]]:
    """The demo admin's and registrar's authenticator key and their unused backup codes."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    if device is None:
        device = two_factor.totp_device_create_confirmed(user=person)
    from django_otp.plugins.otp_static.models import StaticToken

    # Reprint the unused demo codes; make new ones only when they are used up.
    codes = tuple(
        StaticToken.objects.filter(device__user=person)
        .order_by("id")
        .values_list("token", flat=True)
    )
    if len(codes) < 3:
        codes = tuple(two_factor.backup_codes_create(user=person, count=5))
    return b32encode(device.bin_key).decode().rstrip("="), codes
