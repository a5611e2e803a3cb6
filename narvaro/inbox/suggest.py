"""Suggested answers: rank earlier answers and saved replies by how likely each fits a question.

Pure Python over `bm25s` (BM25 on numpy) and the Snowball stemmers; no downloaded model, no
network, no Django. The method and its measured ablation are in
docs/decisions/0015-suggested-answer-ranking.md; `bench/suggest_swefaq.py` measures it on the
SweFAQ dev set. In short, a candidate's score is the sum of

- **word pieces**: BM25 over character 5-grams taken inside each word (" vård", "vårdn", ...
  "ning "). Swedish writes compounds as one word ("vårdnadsöverflyttning"), so a question about
  "överflyttning" shares pieces with an answer about "vårdnadsöverflyttningen"; inflected forms
  share most pieces too;
- **stems** (weight 0.25): BM25 over whole-word Snowball stems, Swedish or English by the text's
  language, so "bibliotekets" and "bibliotek", "libraries" and "library" match exactly;
- **the earlier question** a candidate answered, when known, scored the same two ways (a new
  question usually resembles the old question more than the old answer);
- **answer type** (weight 1.0): a yes/no question and an answer opening "Ja"/"Nej"; "how
  many/much" and an answer with a number; "when/how long" and an answer naming a time;
- **definition** (weight 0.5): "Vad är X?" / "What is X?" and an answer that opens with X.

The lexical scores are standardised over the candidates (mean 0, deviation 1) before they are
added, so the weights mean the same with 5 or 5,000 candidates. IDF comes from the candidates
being ranked: an organisation's own answers decide which words are common.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np
import snowballstemmer

# ISO 639-1 code -> Snowball algorithm.
LANGUAGES = {"sv": "swedish", "en": "english"}

# Parameters, chosen by cross-validation on SweFAQ dev and by reasoning (see the ADR).
GRAM = 5  # length of the character pieces within a word
K1 = 1.2  # BM25 term-frequency saturation
B = 0.5  # BM25 length normalisation, softer than the usual 0.75 (picked by the CV grid)
PIECE_WEIGHT = 1.0
STEM_WEIGHT = 0.25
EARLIER_QUESTION_WEIGHT = 1.0
ANSWER_TYPE_WEIGHT = 1.0
DEFINITION_WEIGHT = 0.5

_WORD = re.compile(r"\w+")

# A few of the most frequent function words, only to guess a question's language.
_SV_WORDS = frozenset(
    ("och", "att", "det", "som", "en", "ett", "är", "jag", "vi", "för", "på", "med", "av",
     "till", "har", "inte", "kan", "om", "vad", "hur", "när", "var", "vem", "vilka", "vilken",
     "får", "ska", "min", "mitt", "mina", "den", "de", "här", "finns", "eller", "också", "mig",
     "du", "ni")
)  # fmt: skip
_EN_WORDS = frozenset(
    ("the", "and", "to", "of", "is", "are", "a", "an", "in", "on", "for", "with", "what", "how",
     "when", "where", "who", "can", "do", "does", "my", "you", "your", "it", "this", "that", "be",
     "not", "or", "have", "has", "will", "should", "which", "there")
)  # fmt: skip

_YES_NO_QUESTION = re.compile(
    r"^\W*(?:kan|får|är|har|blir|måste|ska|skall|behöver|finns|gäller|ärver|vill|kommer|bör|"
    r"går|brukar|can|may|is|are|do|does|did|will|should|must|has|have)\b",
    re.IGNORECASE,
)
_YES_NO_ANSWER = re.compile(r"^\W*(?:ja|nej|yes|no)\b", re.IGNORECASE)
_AMOUNT_QUESTION = re.compile(
    r"^\W*(?:hur\s+(?:många|mycket|stor|stort|gammal)|how\s+(?:many|much|big|old))\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(
    r"^\W*(?:hur\s+(?:länge|lång\s+tid|snabbt|ofta)|när|vilket\s+år|"
    r"how\s+(?:long|soon|often)|when)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_TIME_ANSWER = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|\d+\s*(?:år|månader|månad|veckor|vecka|dagar|dag|timmar|timme|"
    r"years?|months?|weeks?|days?|hours?)|januari|februari|mars|april|maj|juni|juli|augusti|"
    r"september|oktober|november|december|january|february|march|june|july|august|october|"
    r"vecka|veckan|veckor|månad|månaden|dag|dagar|week|weeks|month|months|daily|weekly)\b",
    re.IGNORECASE,
)
_DEFINITION_QUESTION = re.compile(
    r"^\W*(?:vad|what)\s+(?:är|innebär|betyder|menas\s+med|is|are|does|means?)\s+"
    r"(?:det\s+att\s+|att\s+|an?\s+|the\s+)?(?P<subject>.+?)\W*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """An earlier answer or a saved reply that may fit a new question.

    `key` is the caller's handle (a reply id, a saved-reply id); `question` is the earlier
    question the answer was given to, when known; `language` picks the stemmer.
    """

    text: str
    key: Hashable = None
    question: str = ""
    language: str = "sv"

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(
                f"Candidate {self.key!r}: language {self.language!r} is not one of "
                f"{', '.join(sorted(LANGUAGES))}"
            )


@dataclass(frozen=True)
class Suggestion:
    """A candidate with its score; `matched` is false when it shares no word or word piece
    with the question (its place then comes only from the answer-type parts, or from order)."""

    candidate: Candidate
    score: float
    matched: bool


@lru_cache(maxsize=len(LANGUAGES))
def _stemmer(language: str) -> snowballstemmer.stemmer:  # type: ignore[name-defined]
    return snowballstemmer.stemmer(LANGUAGES[language])


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased, in order."""
    return [word.lower() for word in _WORD.findall(text)]


def stems(text: str, language: str) -> list[str]:
    """The Snowball stems of the words of `text` in `language` ("sv" or "en")."""
    found = words(text)
    return _stemmer(language).stemWords(found) if found else []


def word_pieces(text: str, size: int | None = None) -> list[str]:
    """Character pieces of `size` (default `GRAM`) inside each word, padded with a space.

    A word shorter than `size` - 1 letters gives itself, padded, as its one piece.
    """
    size = size or GRAM
    pieces: list[str] = []
    for word in words(text):
        padded = f" {word} "
        pieces.extend(padded[i : i + size] for i in range(max(1, len(padded) - size + 1)))
    return pieces


def guess_language(text: str) -> str:
    """Guess a text's language: "en" when it reads as English, else "sv" (the main language)."""
    found = words(text)
    swedish = sum(word in _SV_WORDS for word in found) + 2 * bool(re.search(r"[åäö]", text, re.I))
    english = sum(word in _EN_WORDS for word in found)
    return "en" if english > swedish else "sv"


def _standardised(scores: np.ndarray) -> np.ndarray:
    deviation = float(scores.std())
    if deviation == 0.0:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / deviation


def _bm25_scores(index: bm25s.BM25, tokens: list[str], count: int) -> np.ndarray:
    if not tokens:  # bm25s cannot score an empty query
        return np.zeros(count)
    return np.asarray(index.get_scores(tokens), dtype=float)


class _Field:
    """BM25 indexes (word pieces and stems) over one text per candidate."""

    def __init__(self, texts: Sequence[str], languages: Sequence[str]) -> None:
        self.empty = not any(words(text) for text in texts)
        if self.empty:
            return
        self.pieces = bm25s.BM25(k1=K1, b=B)
        self.pieces.index([word_pieces(text) for text in texts], show_progress=False)
        self.stems = bm25s.BM25(k1=K1, b=B)
        self.stems.index(
            [stems(text, language) for text, language in zip(texts, languages, strict=True)],
            show_progress=False,
        )

    def score(
        self, pieces: list[str], stemmed: list[str], count: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each text's combined standardised score, and whether it shares anything at all."""
        if self.empty:
            return np.zeros(count), np.zeros(count, dtype=bool)
        by_pieces = _bm25_scores(self.pieces, pieces, count)
        by_stems = _bm25_scores(self.stems, stemmed, count)
        combined = PIECE_WEIGHT * _standardised(by_pieces) + STEM_WEIGHT * _standardised(by_stems)
        return combined, (by_pieces > 0) | (by_stems > 0)


class AnswerIndex:
    """The candidates of one organisation or unit, indexed once and ranked for many questions."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.candidates = list(candidates)
        languages = [candidate.language for candidate in self.candidates]
        self._answers = _Field([c.text for c in self.candidates], languages)
        self._questions = _Field([c.question for c in self.candidates], languages)
        # What the answer-type and definition parts look at, computed once per candidate.
        self._gives = [
            (asks, np.array([1.0 if gives(c.text) else 0.0 for c in self.candidates]))
            for asks, gives in (
                (_YES_NO_QUESTION, _YES_NO_ANSWER.match),
                (_AMOUNT_QUESTION, _DIGIT.search),
                (_TIME_QUESTION, _TIME_ANSWER.search),
            )
        ]
        self._openings = [stems(" ".join(words(c.text)[:12]), c.language) for c in self.candidates]

    def rank(
        self, question: str, *, language: str | None = None, limit: int | None = None
    ) -> list[Suggestion]:
        """The candidates, best first, for `question` (language guessed when not given).

        Ties keep the candidates' given order. A question without words gets no suggestions.
        """
        if language is None:
            language = guess_language(question)
        elif language not in LANGUAGES:
            raise ValueError(f"language {language!r} is not one of {', '.join(sorted(LANGUAGES))}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        count = len(self.candidates)
        if count == 0 or not words(question):
            return []
        pieces = word_pieces(question)
        stemmed = stems(question, language)
        scores, matched = self._answers.score(pieces, stemmed, count)
        earlier, matched_earlier = self._questions.score(pieces, stemmed, count)
        scores = scores + EARLIER_QUESTION_WEIGHT * earlier
        scores = scores + ANSWER_TYPE_WEIGHT * self._answer_type(question)
        scores = scores + DEFINITION_WEIGHT * self._definition(question, language)
        matched = matched | matched_earlier
        order = np.argsort(-scores, kind="stable")  # stable: ties keep the given order
        if limit is not None:
            order = order[:limit]
        return [
            Suggestion(
                candidate=self.candidates[i], score=float(scores[i]), matched=bool(matched[i])
            )
            for i in order
        ]

    def _answer_type(self, question: str) -> np.ndarray:
        """1 for each kind of answer the question asks for (yes/no, amount, time) it gives."""
        bonus = np.zeros(len(self.candidates))
        for asks, gives in self._gives:
            if asks.match(question):
                bonus += gives
        return bonus

    def _definition(self, question: str, language: str) -> np.ndarray:
        """For "what is X?": the share of X's stems among the first words of each answer."""
        found = _DEFINITION_QUESTION.match(question)
        subject = set(stems(found.group("subject"), language)) if found else set()
        if not subject:
            return np.zeros(len(self.candidates))
        window = len(subject) + 3
        return np.array(
            [len(subject & set(opening[:window])) / len(subject) for opening in self._openings]
        )


def rank_answers(
    question: str,
    candidates: Sequence[Candidate],
    *,
    language: str | None = None,
    limit: int | None = None,
) -> list[Suggestion]:
    """Rank `candidates` for `question`, best first (see `AnswerIndex.rank`)."""
    return AnswerIndex(candidates).rank(question, language=language, limit=limit)
