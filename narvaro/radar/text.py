"""Words and stems of an inbound item, Swedish and English, for the rules and the model.

An item's language is not known (a Swedish municipality is answered in both), so every word
is stemmed by both Snowball stemmers: the Swedish lexicons are matched against Swedish stems
and the English lexicons against English stems. Handles, links and hashtags' `#` are dropped
first: "@kommunen" is an address, not a word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_HANDLE = re.compile(r"(?<!\w)@[\w.-]+(?:@[\w.-]+)?")
_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)

_SWEDISH = snowballstemmer.stemmer("swedish")
_ENGLISH = snowballstemmer.stemmer("english")


def clean(text: str) -> str:
    """The text without handles and links, lower-cased."""
    return _LINK.sub(" ", _HANDLE.sub(" ", text or "")).lower()


def words(text: str) -> list[str]:
    """The lower-cased words of `text` (handles and links removed), in order."""
    return _WORD.findall(clean(text))


@lru_cache(maxsize=50_000)
def stem_sv(word: str) -> str:
    return str(_SWEDISH.stemWord(word))


@lru_cache(maxsize=50_000)
def stem_en(word: str) -> str:
    return str(_ENGLISH.stemWord(word))


@dataclass(frozen=True)
class Token:
    """A word with its Swedish and English stems."""

    word: str
    sv: str
    en: str


def tokens(text: str) -> list[Token]:
    return [Token(word, stem_sv(word), stem_en(word)) for word in words(text)]


def model_terms(text: str) -> list[str]:
    """The terms the model's word features count: each word's stems, marked by language.

    Where both stemmers agree the stem is counted once. Emoji and "?"/"!" are kept as terms:
    "👏" and "!!!" say as much as a word.
    """
    terms: list[str] = []
    for token in tokens(text):
        terms.append("sv:" + token.sv)
        if token.en != token.sv:
            terms.append("en:" + token.en)
    terms.extend(_SYMBOL.findall(text or ""))
    return terms


# Emoji and the punctuation that carries tone.
_SYMBOL = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]|\?|!")


@dataclass(frozen=True)
class Lexicon:
    """Words of one meaning (critique, praise, a sensitive-data category) in both languages.

    An entry is a word or a phrase of words; it is matched by stems, so "skandalen" matches
    "skandal" and "complaints" matches "complaint". An entry of five letters or more also
    matches as the start of a longer word: Swedish compounds ("skandalbygget") and
    derivations ("katastrofal").
    """

    sv: tuple[tuple[str, ...], ...]
    en: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, sv: Iterable[str], en: Iterable[str]) -> Lexicon:
        return cls(
            sv=tuple(tuple(stem_sv(w) for w in words(entry)) for entry in sv if words(entry)),
            en=tuple(tuple(stem_en(w) for w in words(entry)) for entry in en if words(entry)),
        )

    def find(self, found: list[Token]) -> list[str]:
        """The words of `found` that match an entry (a phrase gives its words joined by a space)."""
        hits: list[str] = []
        for entries, pick in ((self.sv, _sv), (self.en, _en)):
            stems = [pick(token) for token in found]
            for entry in entries:
                for start in range(len(stems) - len(entry) + 1):
                    if all(
                        _matches(stems[start + offset], part) for offset, part in enumerate(entry)
                    ):
                        hits.append(" ".join(t.word for t in found[start : start + len(entry)]))
        return list(dict.fromkeys(hits))


def _sv(token: Token) -> str:
    return token.sv


def _en(token: Token) -> str:
    return token.en


def _matches(stem: str, entry: str) -> bool:
    return stem == entry or (len(entry) >= 5 and stem.startswith(entry))
