"""Personal data suggested for masking (R25, R33): format and checksum, not just digits."""

from __future__ import annotations

import itertools
import unittest

from hypothesis import given
from hypothesis import strategies as st

from narvaro.disclosure.detection import find_personal_data


def found(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind) for f in find_personal_data(text)]


class FindPersonalDataTests(unittest.TestCase):
    def test_personal_identity_numbers_in_every_written_form(self) -> None:
        """R33: 12 or 10 digits, with -, + (over 100) or nothing between."""
        text = "A 19811218-9876, B 811218-9876, C 198112189876, D 8112189876, E 811218+9876."
        self.assertEqual(
            found(text),
            [
                ("19811218-9876", "pnr"),
                ("811218-9876", "pnr"),
                ("198112189876", "pnr"),
                ("8112189876", "pnr"),
                ("811218+9876", "pnr"),
            ],
        )

    def test_a_coordination_number_is_told_apart(self) -> None:
        self.assertEqual(found("samordningsnr 701063-2391"), [("701063-2391", "samordning")])

    def test_a_wrong_checksum_or_date_is_not_a_personnummer(self) -> None:
        self.assertEqual(found("19811218-9877 och 19811318-9876 och 123456-7890"), [])

    def test_digits_inside_a_longer_number_are_not_taken(self) -> None:
        self.assertEqual(found("ordernummer 1198112189876 och 19811218-98761"), [])

    def test_e_mail_addresses_and_swedish_phone_numbers(self) -> None:
        text = "Mejla anna.berg@example.se eller ring 070-123 45 67 eller +46 8 123 456 78."
        self.assertEqual(
            found(text),
            [
                ("anna.berg@example.se", "email"),
                ("070-123 45 67", "phone"),
                ("+46 8 123 456 78", "phone"),
            ],
        )

    def test_a_mention_is_not_an_e_mail_address(self) -> None:
        self.assertEqual(found("Hej @anna@social.example!"), [])

    def test_overlapping_findings_keep_the_identity_number(self) -> None:
        self.assertEqual(found("19811218-9876@example.se"), [("19811218-9876", "pnr")])

    @given(st.text(alphabet="0123456789 -+@.abc", max_size=40))
    def test_findings_never_overlap_and_lie_inside_the_text(self, text: str) -> None:
        findings = find_personal_data(text)
        for before, after in itertools.pairwise(findings):
            self.assertLessEqual(before.end, after.start)
        for finding in findings:
            self.assertTrue(0 <= finding.start < finding.end <= len(text))
