"""The rules that classify before the organisation has taught a model (Swedish and English)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import SkipTest

from django.test import SimpleTestCase

from narvaro.radar.rules import classify
from narvaro.radar.sensitive import identity_flags, sensitive_flags

SWEFAQ = Path(__file__).resolve().parents[4] / "shared/testdata/text/swefaq_dev.jsonl"


class RulesTests(SimpleTestCase):
    def assertCategories(self, cases: dict[str, str]) -> None:
        got = {text: classify(text).category for text in cases}
        self.assertEqual(got, cases)

    def test_questions_with_and_without_a_question_mark(self) -> None:
        self.assertCategories(
            {
                "När öppnar biblioteket på lördag?": "question",
                "Hej! Hur ansöker jag om bygglov": "question",
                "Får man grilla i stadsparken": "question",
                "Undrar om simhallen har öppet i jul": "question",
                "Tack! När kommer nästa nummer": "question",
                "Is the library open on Sundays": "question",
                "Does anyone know where to park near the theatre": "question",
                "Vilka krav finns på familjehem": "question",
            }
        )

    def test_critique_praise_and_other(self) -> None:
        self.assertCategories(
            {
                "Skandal! Gatlampan är fortfarande inte lagad.": "critique",
                "Varför är snöröjningen så usel?": "critique",
                "Inte bra alls.": "critique",
                "Tack för inget.": "critique",
                "Vilken arg personal i receptionen": "critique",
                "Absolutely useless service, the bus never came": "critique",
                "Tack för en härlig kväll på biblioteket 👏": "praise",
                "Vilken fin park": "praise",
                "Great job with the festival!": "praise",
                "inte dåligt alls": "other",
                "@kommunen @grannen kolla här": "other",
                "Delar vidare till grannarna": "other",
            }
        )

    def test_the_verdict_names_the_rule_and_the_words(self) -> None:
        verdict = classify("Vilken skandal, usel skötsel av parken!")
        self.assertEqual((verdict.rule, verdict.words), ("critique", ("skandal", "usel")))
        self.assertEqual(classify("Hur gör man?").rule, "question_mark")
        self.assertEqual(classify("Hur gör man").words, ("hur",))

    def test_every_swefaq_question_reads_as_a_question_and_most_without_its_mark(self) -> None:
        if not SWEFAQ.exists():
            raise SkipTest(f"{SWEFAQ} is absent (the shared test data)")
        questions = [json.loads(line)["question"] for line in SWEFAQ.open(encoding="utf-8")]
        self.assertEqual(len(questions), 110)
        self.assertTrue(all(classify(q).category == "question" for q in questions))
        bare = [q.replace("?", "").strip() for q in questions]
        read = sum(classify(q).category == "question" for q in bare)
        self.assertGreaterEqual(read, 100)  # 104 of 110 when written

    def test_identity_numbers_need_a_valid_checksum(self) -> None:
        self.assertEqual(identity_flags("pnr 19811218-9876"), ["personnummer"])
        self.assertEqual(identity_flags("811218+9876"), ["personnummer"])
        self.assertEqual(identity_flags("701063-2391"), ["samordningsnummer"])
        self.assertEqual(identity_flags("ordernr 19811218-9875"), [])
        self.assertEqual(identity_flags("tel 0701234567"), [])

    def test_sensitive_keywords_match_stems_and_compounds(self) -> None:
        self.assertEqual(
            sensitive_flags("Min dotter har diabetes och astma"), {"health": ["diabetes", "astma"]}
        )
        self.assertEqual(sensitive_flags("Han är dömd för misshandel"), {"criminal": ["dömd"]})
        self.assertEqual(sensitive_flags("Moskén vid torget"), {"religion": ["moskén"]})
        self.assertEqual(sensitive_flags("I am a union member"), {"trade_union": ["union member"]})
        # Everyday words are not flags.
        self.assertEqual(sensitive_flags("Samma sak i kommunal regi, dom säger inget"), {})

    def test_a_keyword_file_replaces_a_categorys_list(self) -> None:
        import tempfile

        from django.core.exceptions import ImproperlyConfigured
        from django.test import override_settings

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"health": {"sv": ["förkylning"], "en": ["cold"]}}, handle)
        self.addCleanup(Path(handle.name).unlink)
        with override_settings(NARVARO_RADAR_KEYWORDS_FILE=handle.name):
            self.assertEqual(sensitive_flags("Jag har förkylning"), {"health": ["förkylning"]})
            self.assertEqual(sensitive_flags("Min dotter har diabetes"), {})
            # The other categories keep their built-in lists.
            self.assertEqual(sensitive_flags("Han är dömd"), {"criminal": ["dömd"]})
        with (
            override_settings(NARVARO_RADAR_KEYWORDS_FILE=handle.name + ".missing"),
            self.assertRaisesMessage(ImproperlyConfigured, "NARVARO_RADAR_KEYWORDS_FILE"),
        ):
            sensitive_flags("text")
