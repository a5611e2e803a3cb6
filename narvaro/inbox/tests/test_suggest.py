"""Suggested answers: the ranker on small Swedish and English examples, and on real SweFAQ."""

from __future__ import annotations

import json
from pathlib import Path

from django.test import SimpleTestCase

from narvaro.inbox.suggest import (
    AnswerIndex,
    Candidate,
    guess_language,
    rank_answers,
    stems,
)

SWEFAQ = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "text"
SWEFAQ_DEV = SWEFAQ / "swefaq_dev.jsonl"
UNRELATED = [
    Candidate("Biblioteket öppnar klockan tio.", key="library"),
    Candidate("Soptunnan töms på tisdagar.", key="bins"),
    Candidate("Parkeringen kostar ingenting på söndagar.", key="parking"),
]


def keys(question: str, candidates: list[Candidate], **options: object) -> list[object]:
    return [s.candidate.key for s in rank_answers(question, candidates, **options)]  # type: ignore[arg-type]


class RankAnswersTests(SimpleTestCase):
    def test_an_inflected_form_finds_its_base_form(self) -> None:
        self.assertEqual(stems("bibliotekets", "sv"), stems("bibliotek", "sv"))
        candidates = [
            Candidate("Simhallens tider finns på webben.", key="pool"),
            Candidate("Varje bibliotek har egna tider.", key="library"),
        ]
        ranked = rank_answers("Öppettider för bibliotekets filialer?", candidates)
        self.assertEqual([s.candidate.key for s in ranked], ["library", "pool"])
        self.assertGreater(ranked[0].score, ranked[1].score)

    def test_a_compound_in_the_question_finds_an_answer_with_its_parts(self) -> None:
        question = "Hur ansöker jag om bostadsbidrag?"
        answer = "Bidrag till bostaden söker du hos Försäkringskassan."
        # No whole word is shared: only the parts of the compound can find the answer.
        self.assertFalse(set(stems(question, "sv")) & set(stems(answer, "sv")) - {"sök"})
        candidates = [
            Candidate("Parkeringstillstånd söker du hos kommunen.", key="parking"),
            Candidate(answer, key="housing"),
        ]
        self.assertEqual(keys(question, candidates), ["housing", "parking"])

    def test_a_compound_in_the_answer_is_found_from_its_parts(self) -> None:
        candidates = [
            Candidate("Föräldrapenning betalas ut för 480 dagar per barn.", key="parental"),
            Candidate("Din sjukpenninggrundande inkomst räknas om varje år.", key="sickness"),
        ]
        self.assertEqual(keys("Hur räknas min sjukpenning?", candidates)[0], "sickness")

    def test_english_texts_are_stemmed_in_english(self) -> None:
        # "cities" and "city" share no five-letter piece; only the English stem "citi" joins them.
        texts = ["Parking is free on Sundays.", "Every city has a library."]
        english = [Candidate(text, key=n, language="en") for n, text in enumerate(texts)]
        ranked = rank_answers("Which cities?", english, language="en")
        self.assertEqual([(s.candidate.key, s.matched) for s in ranked], [(1, True), (0, False)])
        swedish = [Candidate(text, key=n, language="sv") for n, text in enumerate(texts)]
        ranked = rank_answers("Which cities?", swedish, language="sv")
        self.assertEqual([(s.candidate.key, s.matched) for s in ranked], [(0, False), (1, False)])

    def test_the_question_language_is_guessed_when_not_given(self) -> None:
        self.assertEqual(guess_language("When does the library open on Sundays?"), "en")
        self.assertEqual(guess_language("När öppnar biblioteket på söndag?"), "sv")
        self.assertEqual(guess_language("Vem kan söka?"), "sv")
        self.assertEqual(guess_language("LVU?"), "sv")

    def test_an_earlier_question_counts_towards_its_answer(self) -> None:
        candidates = [
            Candidate(
                "Ja, från och med den 1 juni.", key="summer", question="Är badet öppet i juni?"
            ),
            Candidate(
                "Ja, men bara i receptionen.", key="card", question="Kan jag betala med kort?"
            ),
        ]
        self.assertEqual(keys("Går det att betala med kort i badet?", candidates)[0], "card")
        self.assertEqual(keys("Öppnar badet i juni?", candidates)[0], "summer")

    def test_a_question_prefers_the_kind_of_answer_it_asks_for(self) -> None:
        # Each pair is alike in words; without the answer-type part the first would win
        # (it is shorter), with it the one that gives what was asked for does.
        cases = [
            (
                "Får hundar vara i parken?",
                "Hundar får vara i parken.",
                "Ja, hundar får vara i parken.",
            ),
            (
                "Hur många besökare hade museet i fjol?",
                "Museet hade besökare i fjol.",
                "Museet hade 41 000 besökare i fjol.",
            ),
            (
                "When does the pool open again?",
                "The pool opens again after the works.",
                "The pool opens again on 3 March.",
            ),
        ]
        for question, other, right in cases:
            with self.subTest(question=question):
                candidates = [
                    Candidate(other, key="other"),
                    Candidate(right, key="right"),
                    *UNRELATED,
                ]
                self.assertEqual(keys(question, candidates)[:2], ["right", "other"])

    def test_a_definition_question_prefers_the_answer_that_opens_with_the_term(self) -> None:
        candidates = [
            Candidate("Lagen om vård av unga heter LVU.", key="later"),
            Candidate("LVU heter lagen om vård av unga.", key="opening"),
            *UNRELATED,
        ]
        self.assertEqual(keys("Vad är LVU?", candidates)[:2], ["opening", "later"])

    def test_ties_keep_the_given_order(self) -> None:
        same = [Candidate("Tack för din fråga!", key=n) for n in range(5)]
        self.assertEqual(keys("Tack för din fråga", same), [0, 1, 2, 3, 4])
        unrelated = [Candidate(text, key=text) for text in ("Kaffe", "Te", "Saft")]
        ranked = rank_answers("Snöröjning på min gata?", unrelated)
        self.assertEqual([s.candidate.key for s in ranked], ["Kaffe", "Te", "Saft"])
        self.assertEqual([s.matched for s in ranked], [False, False, False])

    def test_the_same_ranking_comes_back_every_time(self) -> None:
        index = AnswerIndex(
            [
                Candidate(t, key=t)
                for t in ("Soptunnan töms på tisdag.", "Sopor hämtas varje vecka.")
            ]
        )
        first = [(s.candidate.key, s.score) for s in index.rank("När töms soptunnan?")]
        self.assertEqual(
            [(s.candidate.key, s.score) for s in index.rank("När töms soptunnan?")], first
        )

    def test_empty_input_gives_no_suggestions(self) -> None:
        candidates = [Candidate("Biblioteket öppnar klockan tio.")]
        self.assertEqual(rank_answers("", candidates), [])
        self.assertEqual(rank_answers(" ?! ", candidates), [])
        self.assertEqual(rank_answers("När öppnar biblioteket?", []), [])
        ranked = rank_answers("När öppnar biblioteket?", [Candidate(""), *candidates])
        self.assertEqual(
            [s.candidate.text for s in ranked], ["Biblioteket öppnar klockan tio.", ""]
        )

    def test_limit_keeps_the_best(self) -> None:
        candidates = [
            Candidate("Simhallen är stängd.", key="pool"),
            Candidate("Biblioteket är stängt.", key="library"),
            Candidate("Museet är stängt.", key="museum"),
        ]
        self.assertEqual(keys("Är museet stängt?", candidates, limit=1), ["museum"])
        self.assertEqual(keys("Är museet stängt?", candidates, limit=0), [])
        with self.assertRaisesMessage(ValueError, "limit must be 0 or more, got -1"):
            rank_answers("Är museet stängt?", candidates, limit=-1)

    def test_an_unknown_language_is_refused(self) -> None:
        with self.assertRaisesMessage(
            ValueError, "Candidate 7: language 'de' is not one of en, sv"
        ):
            Candidate("Hallo", key=7, language="de")
        with self.assertRaisesMessage(ValueError, "language 'fi' is not one of en, sv"):
            rank_answers("Hei", [Candidate("Hej")], language="fi")


class SweFaqTests(SimpleTestCase):
    """Real citizen questions (Språkbanken Text, SuperLim 2 SweFAQ, CC BY 4.0)."""

    def test_the_right_answer_comes_first_for_at_least_70_percent_of_the_dev_questions(
        self,
    ) -> None:
        if not SWEFAQ_DEV.is_file():
            self.skipTest(f"shared SweFAQ test data not found at {SWEFAQ_DEV}")
        rows = [json.loads(line) for line in SWEFAQ_DEV.read_text(encoding="utf-8").splitlines()]
        self.assertEqual(len(rows), 110)
        first = 0
        indexes: dict[tuple[str, ...], AnswerIndex] = {}  # one per category, as one per unit
        for row in rows:
            pool = tuple(row["candidate_answers"])
            if pool not in indexes:
                indexes[pool] = AnswerIndex([Candidate(text, key=n) for n, text in enumerate(pool)])
            ranked = indexes[pool].rank(row["question"])
            self.assertEqual(len(ranked), len(pool))
            first += ranked[0].candidate.key == row["label"]
        self.assertGreaterEqual(first / len(rows), 0.70)
