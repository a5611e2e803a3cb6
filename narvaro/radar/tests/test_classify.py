"""Classifying inbound items: the API the inbox calls, the flags, the labels, the feed."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import AuditEvent
from narvaro.lib.testing import NarvaroTestCase
from narvaro.radar import selectors, services
from narvaro.radar.models import Classification, Label


class ClassifyTests(NarvaroTestCase):
    def capture(self, texts: dict[str, str], direction: str = "received") -> dict[str, int]:
        capture_batch(
            account=self.account_a,
            captures=[a_capture(rid, text, direction=direction) for rid, text in texts.items()],
            source="test",
        )
        return dict(Item.objects.filter(remote_id__in=texts).values_list("remote_id", "pk"))

    def test_each_inbound_item_gets_a_category_once(self) -> None:
        ids = self.capture(
            {
                "1": "Hej! När öppnar biblioteket på lördag?",
                "2": "Vilken skandal, gatlampan är fortfarande inte lagad. Usel service.",
                "3": "Tack för en fantastisk kväll på stadsbiblioteket 👏",
                "4": "Delar detta med grannarna",
                "5": "Why is the pool closed again, this is ridiculous and unacceptable",
                "6": "Thanks, great job with the festival!",
            }
        )
        with self.assertNumQueries(5):
            categories = services.items_classify(list(ids.values()))
        self.assertEqual(
            {rid: categories[pk] for rid, pk in ids.items()},
            {
                "1": "question",
                "2": "critique",
                "3": "praise",
                "4": "other",
                "5": "critique",
                "6": "praise",
            },
        )
        # Again: nothing new is written, one query answers.
        with self.assertNumQueries(1):
            self.assertEqual(services.items_classify(list(ids.values())), categories)
        self.assertEqual(Classification.objects.count(), 6)
        self.assertEqual(selectors.item_categories(ids.values()), categories)

    def test_items_drawn_up_by_us_are_not_classified(self) -> None:
        ours = self.capture({"9": "Biblioteket öppnar kl 10 på lördag."}, direction="drawn_up")
        self.assertEqual(services.items_classify(list(ours.values())), {})
        self.assertFalse(Classification.objects.exists())

    def test_a_valid_personnummer_flags_and_restricts_the_item(self) -> None:
        ids = self.capture(
            {
                "1": "Mitt personnummer är 19811218-9876, kan ni kolla min ansökan?",
                "2": "Samordningsnummer 701063-2391, varför har jag inte fått svar?",
                "3": "Ordernummer 19811218-9875 gäller inte",  # wrong checksum
                "4": "Min son har diabetes och behöver hjälp med skolskjutsen",
            }
        )
        services.items_classify(list(ids.values()))
        flags = selectors.item_flags(ids.values())
        self.assertEqual(flags[ids["1"]], ["personnummer"])
        self.assertEqual(flags[ids["2"]], ["samordningsnummer"])
        self.assertNotIn(ids["3"], flags)
        self.assertEqual(flags[ids["4"]], ["health"])
        self.assertTrue(selectors.item_restricted(ids["1"]))
        self.assertTrue(selectors.item_restricted(ids["2"]))
        self.assertFalse(selectors.item_restricted(ids["3"]))
        # A sensitive-data flag is for a person to judge; it does not restrict by default.
        self.assertFalse(selectors.item_restricted(ids["4"]))

    def test_a_correction_is_a_label_and_is_audit_logged(self) -> None:
        ids = self.capture({"1": "Tredje veckan utan sophämtning på Ringvägen"})
        item_id = ids["1"]
        self.assertEqual(services.items_classify([item_id]), {item_id: "other"})
        services.item_category_set(item_id=item_id, category="critique", actor=self.alice)
        self.assertEqual(selectors.item_categories([item_id]), {item_id: "critique"})
        label = Label.objects.get()
        self.assertEqual(
            (label.item_id, label.category, label.previous, label.person),
            (item_id, "critique", "other", self.alice),
        )
        event = AuditEvent.objects.get(target_type="archive.item", target_id=str(item_id))
        self.assertEqual(event.changes, {"category": ["other", "critique"]})
        self.assertEqual(event.actor, self.alice)
        # Re-classifying keeps the person's category.
        services.items_classify([item_id])
        self.assertEqual(Classification.objects.get().source, "staff")
        # A second correction is a second label.
        services.item_category_set(item_id=item_id, category="question", actor=self.adam)
        self.assertEqual(Label.objects.count(), 2)

    def test_a_correction_needs_the_right_to_answer_in_the_unit(self) -> None:
        item_id = self.capture({"1": "När öppnar ni?"})["1"]
        with self.assertRaises(PermissionDenied):
            services.item_category_set(item_id=item_id, category="praise", actor=self.vera)
        with self.assertRaises(PermissionDenied):
            services.item_category_set(item_id=item_id, category="praise", actor=self.bob)
        with self.assertRaisesMessage(ValidationError, "Unknown category"):
            services.item_category_set(item_id=item_id, category="spam", actor=self.alice)
        self.assertFalse(Label.objects.exists())

    def test_captured_items_are_classified_from_the_feed(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            ids = self.capture({"1": "Hur ansöker jag om bygglov?", "2": "Tack!"})
        self.assertEqual(
            selectors.item_categories(ids.values()),
            {ids["1"]: "question", ids["2"]: "praise"},
        )
        # The catch-up finds nothing left.
        self.assertEqual(services.classify_feed(), 0)

    def test_an_edit_that_adds_a_personnummer_restricts_the_item(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            item_id = self.capture({"1": "Hej, när får jag svar?"})["1"]
        self.assertFalse(selectors.item_restricted(item_id))
        # The author edits the comment: a new version, not a new item.
        with self.captureOnCommitCallbacks(execute=True):
            self.capture({"1": "Hej, när får jag svar? Mitt nummer är 19811218-9876"})
        self.assertFalse(selectors.item_restricted(item_id))  # the feed names no new item
        services.classify_feed()  # the periodic catch-up
        self.assertTrue(selectors.item_restricted(item_id))
        self.assertEqual(selectors.item_flags([item_id]), {item_id: ["personnummer"]})
        # Removing it again in a third version does not lift the restriction: the archive
        # still holds the version with it.
        self.capture({"1": "Hej, när får jag svar? (numret borttaget)"})
        services.classify_feed()
        self.assertEqual(Item.objects.get(pk=item_id).versions.count(), 3)
        self.assertTrue(selectors.item_restricted(item_id))
