"""Words and stems of an inbound item, Swedish and English, for the rules and the model.

An item's language is not known (a Swedish municipality is answered in both), so every word
is stemmed by both Snowball stemmers: the Swedish lexicons are matched against Swedish stems
and the English lexicons against English stems. Handles, links and hashtags' `#` are dropped
first: "@kommunen" is an address, not a word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

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


# An entry of a lexicon: its words as (stem, word) pairs.
Entry = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Lexicon:
    """Words of one meaning (critique, praise, a sensitive-data category) in both languages.

    An entry is a word or a phrase of words; it is matched by stems, so "skandalen" matches
    "skandal" and "complaints" matches "complaint". An entry of five letters or more also
    matches as the start of a longer word: Swedish compounds ("skandalbygget") and
    derivations ("katastrofal"). A stem of three letters or fewer is too loose to match on
    its own ("härlig" stems to "här"), so there the word itself must start with the entry.
    """

    sv: tuple[Entry, ...]
    en: tuple[Entry, ...]

    @classmethod
    def of(cls, sv: Iterable[str], en: Iterable[str]) -> Lexicon:
        return cls(
            sv=tuple(tuple((stem_sv(w), w) for w in words(entry)) for entry in sv if words(entry)),
            en=tuple(tuple((stem_en(w), w) for w in words(entry)) for entry in en if words(entry)),
        )

    @cached_property
    def _index(self) -> list[tuple[dict[str, list[Entry]], tuple[int, ...], str]]:
        """Per language: the entries by the stem of their first word, the lengths of those
        stems that may match as a prefix (five letters or more), and which stem to read."""
        by_language = []
        for entries, attribute in ((self.sv, "sv"), (self.en, "en")):
            index: dict[str, list[Entry]] = defaultdict(list)
            for entry in entries:
                index[entry[0][0]].append(entry)
            lengths = tuple(sorted({len(stem) for stem in index if len(stem) >= 5}))
            by_language.append((dict(index), lengths, attribute))
        return by_language

    def find(self, found: list[Token]) -> list[str]:
        """The words of `found` that match an entry (a phrase gives its words joined by a space)."""
        hits: list[str] = []
        for index, lengths, attribute in self._index:
            stems = [getattr(token, attribute) for token in found]
            for start, stem in enumerate(stems):
                # The entries whose first stem is this token's stem or (five letters or more)
                # the start of it.
                candidates = index.get(stem, [])
                for length in lengths:
                    if length >= len(stem):
                        break
                    candidates = candidates + index.get(stem[:length], [])
                for entry in candidates:
                    if start + len(entry) <= len(found) and all(
                        _matches(found[start + offset], stems[start + offset], part)
                        for offset, part in enumerate(entry)
                    ):
                        hits.append(" ".join(t.word for t in found[start : start + len(entry)]))
        return list(dict.fromkeys(hits))


def _matches(token: Token, stem: str, entry: tuple[str, str]) -> bool:
    entry_stem, entry_word = entry
    if len(entry_stem) <= 3:
        return stem == entry_stem and token.word.startswith(entry_word[: len(entry_stem) + 2])
    return stem == entry_stem or (len(entry_stem) >= 5 and stem.startswith(entry_stem))
