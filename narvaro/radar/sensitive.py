"""Flags for personal data an inbound item should not spread (R33, R34).

- `personnummer` / `samordningsnummer`: a valid Swedish personal identity or coordination
  number (shape, date and Luhn checksum, by the `personnummer` package through
  `disclosure.detection`). The item is access-restricted and offered for hiding (R33).
- Sensitive data (GDPR art. 9 and 10): keyword heuristics for health, ethnic origin, religion,
  political opinion, sex life or sexual orientation, trade-union membership and criminal
  offences (R34). They are flags for a person to judge, not findings: "sjukhuset" in a question
  about parking is not health data. The word lists are built in and can be replaced per
  category by a JSON file (NARVARO_RADAR_KEYWORDS_FILE, see .env.example).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from narvaro.disclosure.detection import find_identity_numbers
from narvaro.radar.text import Lexicon, tokens

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

# The flags that restrict access to an item's text (R33).
IDENTITY_FLAGS = frozenset({PERSONNUMMER, SAMORDNINGSNUMMER})

SENSITIVE_CATEGORIES: dict[str, Promise] = {
    "health": _("Health"),
    "ethnicity": _("Ethnic origin"),
    "religion": _("Religion or belief"),
    "politics": _("Political opinion"),
    "sexuality": _("Sex life or sexual orientation"),
    "trade_union": _("Trade-union membership"),
    "criminal": _("Criminal offences"),
}

FLAG_LABELS: dict[str, Promise] = {
    PERSONNUMMER: _("Personal identity number"),
    SAMORDNINGSNUMMER: _("Coordination number"),
    **SENSITIVE_CATEGORIES,
}

DEFAULT_KEYWORDS: dict[str, dict[str, list[str]]] = {
    "health": {
        "sv": ["sjukdom", "diagnos", "cancer", "diabetes", "depression", "ångest", "psykisk",
               "psykiatri", "adhd", "autism", "hiv", "graviditet", "gravid", "missfall", "abort",
               "sjukskriven", "sjukskrivning", "medicin", "medicinering", "funktionsnedsättning",
               "rullstol", "demens", "alzheimer", "stroke", "epilepsi", "missbruk", "alkoholism",
               "allergi", "astma", "utbrändhet", "patientjournal", "självmord", "suicid"],
        "en": ["illness", "diagnosis", "diagnosed", "cancer", "diabetes", "depression",
               "anxiety", "mental health", "psychiatric", "adhd", "autism", "hiv", "pregnant",
               "pregnancy", "miscarriage", "abortion", "sick leave", "medication", "disability",
               "wheelchair", "dementia", "stroke", "epilepsy", "addiction", "alcoholism",
               "surgery", "allergy", "asthma", "suicide"],
    },
    "ethnicity": {
        "sv": ["etnicitet", "etnisk", "hudfärg", "invandrare", "romer", "romsk", "samer",
               "samisk", "judisk härkomst", "härkomst"],
        "en": ["ethnicity", "ethnic", "racial", "skin colour", "skin color", "immigrant",
               "roma", "sami"],
    },
    "religion": {
        "sv": ["religion", "religiös", "muslim", "islam", "kristen", "kristendom", "jude",
               "judisk", "judendom", "hindu", "buddhist", "moské", "synagoga", "ateist",
               "troende", "ramadan"],
        "en": ["religion", "religious", "muslim", "islam", "christian", "jewish", "jew",
               "judaism", "hindu", "buddhist", "mosque", "synagogue", "atheist",
               "believer", "ramadan"],
    },
    "politics": {
        "sv": ["socialdemokrat", "moderaterna", "sverigedemokrat", "vänsterparti", "miljöparti",
               "centerparti", "liberalerna", "kristdemokrat", "partimedlem", "röstade på",
               "politisk åsikt", "politiska åsikter", "partitillhörighet"],
        "en": ["social democrat", "conservative party", "labour party", "party member",
               "voted for", "political opinion", "political views", "party affiliation"],
    },
    "sexuality": {
        "sv": ["homosexuell", "bisexuell", "hbtq", "gay", "lesbisk", "transperson", "sexuell",
               "sexualitet", "sexliv", "läggning"],
        "en": ["homosexual", "bisexual", "lgbt", "lgbtq", "gay", "lesbian", "transgender",
               "sexual orientation", "sexuality", "sex life"],
    },
    "trade_union": {
        "sv": ["fackförbund", "fackmedlem", "fackligt", "facklig", "lärarförbundet", "fackklubb",
               "skyddsombud"],
        "en": ["trade union", "union member", "union membership", "shop steward"],
    },
    "criminal": {
        "sv": ["dömd", "straffad", "brottsling", "brott", "åtal", "åtalad", "misstänkt för",
               "polisanmäld", "polisanmälan", "fängelse", "häktad", "anhållen",
               "belastningsregister", "kriminell"],
        "en": ["convicted", "conviction", "criminal record", "crime", "prosecuted",
               "suspected of", "police report", "prison", "arrested", "jailed"],
    },
}  # fmt: skip


def _keyword_lists() -> dict[str, dict[str, list[str]]]:
    """The built-in lists with the categories NARVARO_RADAR_KEYWORDS_FILE replaces."""
    lists = {category: dict(langs) for category, langs in DEFAULT_KEYWORDS.items()}
    path = settings.NARVARO_RADAR_KEYWORDS_FILE
    if not path:
        return lists
    try:
        configured = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"NARVARO_RADAR_KEYWORDS_FILE={path}: {exc}") from exc
    if not isinstance(configured, dict):
        raise ImproperlyConfigured(f"NARVARO_RADAR_KEYWORDS_FILE={path}: expected an object")
    for category, langs in configured.items():
        if category not in SENSITIVE_CATEGORIES:
            raise ImproperlyConfigured(
                f"NARVARO_RADAR_KEYWORDS_FILE={path}: unknown category {category!r} "
                f"(use {', '.join(SENSITIVE_CATEGORIES)})"
            )
        if not isinstance(langs, dict) or not all(
            lang in ("sv", "en") and isinstance(words, list) for lang, words in langs.items()
        ):
            raise ImproperlyConfigured(
                f"NARVARO_RADAR_KEYWORDS_FILE={path}: {category} must map sv/en to word lists"
            )
        lists[category] = {"sv": langs.get("sv", []), "en": langs.get("en", [])}
    return lists


@lru_cache(maxsize=4)
def _lexicons(path: str) -> dict[str, Lexicon]:
    # Keyed by the configured path, so a test that overrides the setting gets its own lists.
    return {
        category: Lexicon.of(langs.get("sv", []), langs.get("en", []))
        for category, langs in _keyword_lists().items()
    }


def sensitive_flags(text: str) -> dict[str, list[str]]:
    """Sensitive-data categories whose keywords `text` contains, with the words found."""
    found = tokens(text)
    hits: dict[str, list[str]] = {}
    for category, lexicon in _lexicons(settings.NARVARO_RADAR_KEYWORDS_FILE or "").items():
        words = lexicon.find(found)
        if words:
            hits[category] = words
    return hits


def identity_flags(text: str) -> list[str]:
    """`personnummer` and/or `samordningsnummer` when `text` holds a valid one."""
    kinds = {finding.kind for finding in find_identity_numbers(text or "")}
    flags = []
    if "pnr" in kinds:
        flags.append(PERSONNUMMER)
    if "samordning" in kinds:
        flags.append(SAMORDNINGSNUMMER)
    return flags


def item_flags_of(text: str) -> list[str]:
    """Every flag of a text: identity numbers first, then sensitive categories in order."""
    sensitive = sensitive_flags(text)
    return identity_flags(text) + [c for c in SENSITIVE_CATEGORIES if c in sensitive]
