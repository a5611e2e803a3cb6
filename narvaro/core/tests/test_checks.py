"""Narvaro's deploy checks."""

from __future__ import annotations

from django.core.checks import run_checks
from django.test import SimpleTestCase


class BaseUrlCheckTests(SimpleTestCase):
    def ids(self) -> list[str]:
        return [m.id for m in run_checks(include_deployment_checks=True) if m.id]

    def test_the_local_default_is_flagged_for_a_deployment(self) -> None:
        with self.settings(NARVARO_BASE_URL="http://127.0.0.1:8000"):
            self.assertIn("narvaro.W001", self.ids())
        with self.settings(NARVARO_BASE_URL="https://narvaro.strandvik.se"):
            self.assertNotIn("narvaro.W001", self.ids())

    def test_the_everyday_checks_do_not_flag_it(self) -> None:
        with self.settings(NARVARO_BASE_URL="http://127.0.0.1:8000"):
            self.assertNotIn("narvaro.W001", [m.id for m in run_checks()])
