"""Every test starts in the default language (settings_test: English).

A request through the test client leaves the language its middleware chose active in the
thread (Django does not reset it), so without this a test that asserts an English message
would depend on which test ran before it in the same worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
