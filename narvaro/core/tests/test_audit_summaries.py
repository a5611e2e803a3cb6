"""Audit summaries are stored in one English form and shown in the reader's language."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import translation

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch, fixity_alert_raise
from narvaro.archive.tests.support import a_capture, an_image
from narvaro.core.audit_summaries import (
    MESSAGES,
    RECORD_VIEWED,
    audit_summary,
    summary_display,
)
from narvaro.core.models import AuditEvent
from narvaro.core.services import audit_record
from narvaro.lib.testing import NarvaroTestCase

X_FIXTURE = Path(__file__).resolve().parents[2] / "channels/tests/fixtures/x/archive__small"


class AuditSummaryTests(SimpleTestCase):
    def test_a_summary_is_stored_in_english_whatever_the_language(self) -> None:
        with translation.override("sv"):
            stored = audit_summary(RECORD_VIEWED, item="mastodon:p1")
        self.assertEqual(stored, "record mastodon:p1 viewed")

    def test_a_listed_summary_is_shown_translated_with_its_values(self) -> None:
        stored = "records register exported as csv via web (12 items)"
        with translation.override("en"):
            self.assertEqual(summary_display(stored), stored)
        with translation.override("sv"):
            shown = summary_display(stored)
        self.assertNotEqual(shown, stored)
        self.assertIn("csv", shown)
        self.assertIn("12", shown)

    def test_every_listed_message_has_a_swedish_translation(self) -> None:
        for message in MESSAGES:
            if not re.search(r"[a-z]", _shape(message)):
                continue  # "%(from_state)s → %(to_state)s": only its values are translated
            with self.subTest(message=message), translation.override("sv"):
                self.assertNotEqual(translation.gettext(message), message)

    def test_any_other_summary_is_shown_as_stored(self) -> None:
        with translation.override("sv"):
            note = "Links to shops are removed; Anna is a moderator in summer"
            self.assertEqual(summary_display(note), note)  # a change note, free text
            self.assertEqual(summary_display(""), "")

    def test_codes_in_a_summary_are_shown_as_their_labels(self) -> None:
        with translation.override("sv"):
            self.assertEqual(
                summary_display("decision on record 5: withhold"),
                "beslut om handling 5: Lämna inte ut",
            )
            self.assertEqual(summary_display("proposed → active"), "Föreslaget → Aktivt")
            # A value that is no code of its list is no such summary: shown as stored.
            self.assertEqual(summary_display("draft → active"), "draft → active")
        with translation.override("en"):
            self.assertEqual(
                summary_display("decision on record 5: withhold"),
                "decision on record 5: withhold",
            )

    def test_only_listed_messages_can_be_stored(self) -> None:
        with self.assertRaises(ValueError):
            audit_summary("something %(x)s happened", x=1)


class AuditSummaryDisplayTests(NarvaroTestCase):
    def audit_page(self, language: str) -> str:
        client = self.client_for(self.rita)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return client.get(reverse("core:audit_log")).content.decode()

    def test_the_archive_and_import_summaries_follow_the_readers_language(self) -> None:
        capture_batch(
            account=self.account_a, captures=[a_capture("p1", media=(an_image(),))], source="t"
        )
        item = Item.objects.get(remote_id="p1")
        vera = self.client_for(self.vera)
        vera.get(item.get_absolute_url())
        vera.get(reverse("archive:record_media", args=[item.pk, 1, 0]))
        vera.get(reverse("archive:record_export"))
        self.client_for(self.adam).get(reverse("channels:account_export", args=["csv"]))
        call_command(
            "import", "x", str(X_FIXTURE), "--account", "x:@strandvik", "--unit", "kultur",
            "--json", stdout=io.StringIO(),
        )  # fmt: skip
        fixity_alert_raise(report=None)

        stored = list(AuditEvent.objects.order_by("id").values_list("summary", flat=True))
        # Stored in English, as before: the rows mean what they meant.
        expected = [
            f"record {item} viewed",
            f"attachment 1 of {item} v1 viewed",
            "records register exported as csv via web (1 items)",
            "channel register exported as csv (2 accounts)",
            f"x export imported from {X_FIXTURE}",
            "fixity check failed: 0 problem(s)",
        ]
        # (Other rows in between: the account the import proposed, its membership...)
        self.assertEqual([summary for summary in stored if summary in expected], expected)

        english, swedish = self.audit_page("en"), self.audit_page("sv")
        for summary in expected:
            with self.subTest(summary=summary):
                self.assertIn(summary, english)
                self.assertNotIn(summary, swedish)
                with translation.override("sv"):
                    self.assertIn(summary_display(summary), swedish)

    def test_the_account_history_shows_the_import_in_the_readers_language(self) -> None:
        audit_record(
            actor=None,
            action=AuditEvent.Action.IMPORT,
            target=self.account_a,
            unit_id=self.account_a.unit_id,
            summary=audit_summary(
                "%(format)s export imported from %(path)s", format="x", path="/a"
            ),
        )
        client = self.client_for(self.alice)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        page = client.get(self.account_a.get_absolute_url()).content.decode()
        with translation.override("sv"):
            translated = summary_display("x export imported from /a")
        self.assertNotEqual(translated, "x export imported from /a")
        self.assertIn(translated, page)

    def test_changes_show_old_and_new_values_and_plain_counts(self) -> None:
        # An export logs {"items": n}: a template's `changes.items` would reach the count.
        audit_record(
            actor=self.adam,
            action=AuditEvent.Action.EXPORT,
            summary="records register exported as csv via web (3 items)",
            changes={"filters": {"q": "hus"}, "items": 3, "via": "web"},
        )
        audit_record(
            actor=self.adam,
            action=AuditEvent.Action.TRANSITION,
            target=self.account_a,
            summary="proposed → active",
            changes={"state": ["proposed", "active"], "closed_on": [None, "2026-03-01"]},
        )
        page = self.audit_page("en")
        self.assertIn("<strong>items</strong>: 3</div>", page)
        self.assertIn("<strong>filters</strong>: {&quot;q&quot;: &quot;hus&quot;}</div>", page)
        # A model's field is named as the model names it, a choice by its label.
        self.assertIn("<strong>State</strong>: Proposed → Active</div>", page)
        self.assertIn("<strong>Closed</strong>: – → 2026-03-01</div>", page)
        swedish = self.audit_page("sv")
        self.assertIn("<strong>Status</strong>: Föreslaget → Aktivt</div>", swedish)
        self.assertIn("<strong>Stängt</strong>: – → 2026-03-01</div>", swedish)
        # The account's own page shows its history the same way.
        client = self.client_for(self.adam)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        account_page = client.get(self.account_a.get_absolute_url()).content.decode()
        self.assertIn("<li>Status: Föreslaget → Aktivt</li>", account_page)
        self.assertNotIn("state: proposed", account_page)


# --- Every summary the code writes is a listed message --------------------------------------

NARVARO = Path(__file__).resolve().parents[2]
MARK = "\x00"  # stands for a value in a summary's shape
# Summaries that are free text by design, shown as stored: (file, name of the value).
FREE_TEXT = {("channels/services.py", "change_note")}


def _shape(message: str) -> str:
    return re.sub(r"%\(\w+\)s", MARK, message)


class _SummaryWrites:
    """The shapes of every `summary=` given to `audit_record(...)` or `AuditEvent(...)`.

    A summary held in a variable is followed to its assignment in the same function, and a
    summary passed in as a parameter to every call of that function in the same module.
    """

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.shapes: list[tuple[int, str]] = []
        self.problems: list[str] = []
        self.parents = {
            child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
        }

    def scan(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in {"audit_record", "AuditEvent"}:
                continue
            for keyword in node.keywords:
                if keyword.arg == "summary":
                    function = self.enclosing(node)
                    for shape in self.expand(keyword.value, node.lineno, function):
                        self.shapes.append((node.lineno, shape))

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def expand(self, node: ast.expr, line: int, function: ast.FunctionDef | None) -> list[str]:
        """Every shape `node` can produce: literal text with MARK for each value."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return [
                "".join(
                    part.value if isinstance(part, ast.Constant) else MARK for part in node.values
                )
            ]
        if isinstance(node, ast.IfExp):
            return self.expand(node.body, line, function) + self.expand(node.orelse, line, function)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return [
                left + right
                for left in self.expand(node.left, line, function)
                for right in self.expand(node.right, line, function)
            ]
        if isinstance(node, ast.Subscript):  # summary[:500]
            return self.expand(node.value, line, function)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            return [s for value in node.values for s in self.expand(value, line, function)]
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "audit_summary":
            return []  # refused at run time unless listed
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "join":
            return [MARK]  # ", ".join(dates): one value
        if isinstance(node, ast.Name):
            if (self.path, node.id) in FREE_TEXT:
                return []
            assigned = self.assigned(node.id, function)
            if assigned is not None:
                return self.expand(assigned, line, function)
            if function is not None and node.id in _parameters(function):
                return self.passed_in(function, node.id, line)
        self.problems.append(f"{self.path}:{line}: summary {ast.unparse(node)!r} of unknown form")
        return []

    def assigned(self, name: str, function: ast.FunctionDef | None) -> ast.expr | None:
        """The value last assigned to `name` in `function`, if any."""
        if function is None:
            return None
        found = None
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in node.targets
            ):
                found = node.value
        return found

    def passed_in(self, function: ast.FunctionDef, name: str, line: int) -> list[str]:
        """The shapes every call of `function` in this module passes as its parameter `name`."""
        position = (
            [a.arg for a in function.args.args].index(name)
            if name in [a.arg for a in function.args.args]
            else None
        )
        shapes: list[str] = []
        calls = 0
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == function.name):
                continue
            calls += 1
            given = [k.value for k in node.keywords if k.arg == name]
            if not given and position is not None and position < len(node.args):
                given = [node.args[position]]
            for value in given:
                shapes.extend(self.expand(value, node.lineno, self.enclosing(node)))
        if not calls:
            self.problems.append(f"{self.path}:{line}: {function.name}() is called elsewhere")
        return shapes


def _parameters(function: ast.FunctionDef) -> set[str]:
    arguments = function.args
    return {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}


class EverySummaryIsListedTests(SimpleTestCase):
    """A summary the code writes in any other form would be shown in English to everyone."""

    def test_every_summary_written_matches_a_listed_message_with_a_translation(self) -> None:
        listed = {_shape(message): message for message in MESSAGES}
        writes = 0
        problems: list[str] = []
        for path in sorted(NARVARO.rglob("*.py")):
            relative = str(path.relative_to(NARVARO))
            if "/tests/" in f"/{relative}" or "/migrations/" in relative:
                continue
            if relative == "core/services.py":
                source = path.read_text()
                # audit_record itself passes its argument on; its own callers are scanned.
                source = source.replace("summary=summary[:500]", 'summary=""')
            else:
                source = path.read_text()
            scan = _SummaryWrites(relative, ast.parse(source))
            scan.scan()
            problems.extend(scan.problems)
            for line, shape in scan.shapes:
                if not shape:
                    continue
                writes += 1
                message = listed.get(shape)
                if message is None:
                    problems.append(f"{relative}:{line}: {shape!r} is not a listed message")
        self.assertGreater(writes, 20)  # the f-strings and literals of other apps
        self.assertEqual(problems, [])

    def test_audit_summary_calls_name_listed_messages(self) -> None:
        """`audit_summary(X, ...)` refuses an unlisted message at run time; check statically too."""
        from narvaro.core import audit_summaries

        for path in sorted(NARVARO.rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") == "audit_summary"
                    and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id.isupper()
                ):
                    with self.subTest(path=str(path), line=node.lineno):
                        self.assertIn(getattr(audit_summaries, node.args[0].id), MESSAGES)
