"""Learning from the staff: after 40 corrections the model beats the rules on held-out labels."""

from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.lib.testing import NarvaroTestCase
from narvaro.radar import learning, selectors, services
from narvaro.radar.models import Classification, Label, ModelVersion
from narvaro.radar.tasks import model_train as model_train_task
from narvaro.radar.tests.corpus import labelled


class LearningTests(NarvaroTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.corpus = labelled()
        capture_batch(
            account=cls.account_a,
            captures=[a_capture(f"c{n}", text) for n, (text, _) in enumerate(cls.corpus)],
            source="test",
        )
        cls.ids = [Item.objects.get(remote_id=f"c{n}").pk for n in range(len(cls.corpus))]
        services.items_classify(cls.ids)

    def correct_all(self) -> None:
        for item_id, (_, category) in zip(self.ids, self.corpus, strict=True):
            services.item_category_set(item_id=item_id, category=category, actor=self.alice)

    def test_after_40_corrections_the_model_beats_the_rules_on_held_out_labels(self) -> None:
        self.correct_all()
        self.assertEqual(Label.objects.count(), 40)
        model_train_task.enqueue()  # the hourly task (immediate in tests)

        version = ModelVersion.objects.get()
        self.assertEqual(version.status, "trained")
        self.assertEqual(version.label_count, 40)
        self.assertEqual(version.folds, 5)
        self.assertGreater(version.model_f1, version.rules_f1)
        self.assertTrue(version.active)
        self.assertEqual(sum(map(sum, version.confusion["model"])), 40)
        self.assertEqual(sum(map(sum, version.confusion["rules"])), 40)

        # The page shows both scores, the confusion matrices and the label count.
        page = self.client_for(self.alice).get(reverse("radar:classifier")).content.decode()
        self.assertIn(f"{version.model_f1:.3f}", page)
        self.assertIn(f"{version.rules_f1:.3f}", page)
        self.assertIn("The model beats the rules and is in use.", page)
        self.assertIn('<th scope="row">Critique</th>', page)
        self.assertIn("<dt>Labels</dt><dd>40</dd>", page)

        # The model now classifies new items, and its reading can be explained.
        capture_batch(
            account=self.account_a,
            captures=[a_capture("new", "Fjärde veckan utan sophämtning på Skolgatan")],
            source="test",
        )
        new = Item.objects.get(remote_id="new").pk
        self.assertEqual(services.items_classify([new]), {new: "critique"})
        classification = Classification.objects.get(item_id=new)
        self.assertEqual((classification.source, classification.model_version), ("model", version))
        page = self.client_for(self.alice).get(reverse("radar:item_explain", args=[new]))
        self.assertContains(page, "Features that weighed most")
        self.assertContains(page, "<code>utan</code>", html=False)

    def test_a_model_coming_into_use_reads_again_what_the_machine_classified(self) -> None:
        # An inbox conversation opened by one of the items, and items only the rules read.
        from narvaro.inbox.derive import conversations_derive
        from narvaro.inbox.models import Conversation, ConversationEvent

        later = self.later_items()
        conversations_derive()
        # The staff label everything but the two later items; labels are kept as they are.
        self.correct_all()
        before = dict(
            Classification.objects.filter(item_id__in=later).values_list("item_id", "category")
        )
        self.assertTrue(
            all(
                source == "rules"
                for source in Classification.objects.filter(item_id__in=later).values_list(
                    "source", flat=True
                )
            )
        )
        old = Classification.objects.filter(source="rules", item_id__in=later)
        self.assertEqual(old.count(), 2)

        with self.captureOnCommitCallbacks(execute=True):  # the signal is sent after commit
            version = services.model_train()
        assert version is not None and version.active

        # The later items now carry the model's reading; the staff's labels stay the staff's.
        after = Classification.objects.filter(item_id__in=later)
        self.assertEqual({c.source for c in after}, {"model"})
        self.assertEqual({c.model_version_id for c in after}, {version.pk})
        self.assertEqual({c.category for c in after}, {"critique"})
        changed = sum(1 for c in after if before[c.item_id] != c.category)
        self.assertEqual(version.reclassified, changed)
        self.assertGreater(changed, 0)
        self.assertEqual(
            Classification.objects.filter(item_id__in=self.ids).exclude(source="staff").count(),
            0,
        )
        for item_id, (_, category) in zip(self.ids, self.corpus, strict=True):
            self.assertEqual(Classification.objects.get(item_id=item_id).category, category)
        # The conversations the later items opened follow the model's reading.
        self.assertEqual(Conversation.objects.filter(root_item_id__in=later).count(), 2)
        for conversation in Conversation.objects.filter(root_item_id__in=later):
            self.assertEqual(conversation.category, "critique")
        # Where the category changed, the conversation's history says who changed it.
        moved = [item_id for item_id in later if before[item_id] != "critique"]
        followed = Conversation.objects.get(root_item_id=moved[0])
        event = followed.events.get(type="category")
        self.assertEqual(
            (event.actor, event.details),
            (None, {"from": before[moved[0]], "to": "critique", "by": "classifier"}),
        )
        self.assertEqual(
            ConversationEvent.objects.filter(conversation__root_item_id__in=later)
            .filter(type="category")
            .count(),
            changed,
        )
        history = self.client_for(self.alice).get(followed.get_absolute_url())
        self.assertContains(history, "→ Critique (by the classifier, which was retrained)")
        # The classifier page says how many were read again and changed.
        page = self.client_for(self.alice).get(reverse("radar:classifier"))
        self.assertContains(page, "the model read again what the machine had classified")
        # Reading again with the same model changes nothing more.
        self.assertEqual(services.items_reclassify(), 0)

    def later_items(self) -> list[int]:
        now = timezone.now()
        capture_batch(
            account=self.account_a,
            captures=[
                a_capture("later-1", "Fjärde veckan utan sophämtning på Skolgatan", created_at=now),
                a_capture(
                    "later-2", "Sophämtningen har uteblivit igen på Skolgatan", created_at=now
                ),
            ],
            source="test",
        )
        later = list(
            Item.objects.filter(remote_id__startswith="later-")
            .order_by("remote_id")
            .values_list("pk", flat=True)
        )
        services.items_classify(later)
        return later

    def test_a_label_set_after_the_model_read_the_item_is_kept(self) -> None:
        """A label set between the reading and the writing (one connection: the race of two,
        a label committed between the lock and the write, is closed by locking every row to
        be written, which a single-threaded test cannot interleave)."""
        later = self.later_items()
        self.correct_all()
        read = learning.read
        labelled: list[int] = []

        def read_then_a_person_labels(texts: list[str], model: object) -> list[object]:
            readings = read(texts, model)  # type: ignore[arg-type]
            if model is not None and not labelled:  # between the reading and the writing
                services.item_category_set(item_id=later[0], category="praise", actor=self.alice)
                labelled.append(later[0])
            return readings  # type: ignore[return-value]

        with mock.patch.object(learning, "read", read_then_a_person_labels):
            version = services.model_train()
        assert version is not None and version.active
        self.assertEqual(labelled, [later[0]])
        first = Classification.objects.get(item_id=later[0])
        self.assertEqual((first.category, first.source), ("praise", "staff"))
        self.assertEqual(Classification.objects.get(item_id=later[1]).source, "model")

    def test_a_disposed_item_is_not_read_again(self) -> None:
        later = self.later_items()
        self.correct_all()
        # Gallring dropped the first item's text (its digest stays).
        ItemVersion.objects.filter(item_id=later[0]).update(text=None)
        before = Classification.objects.get(item_id=later[0])
        version = services.model_train()
        assert version is not None and version.active
        after = Classification.objects.get(item_id=later[0])
        self.assertEqual((after.category, after.source), (before.category, "rules"))
        self.assertEqual(Classification.objects.get(item_id=later[1]).source, "model")

    def test_no_new_labels_no_new_training(self) -> None:
        self.correct_all()
        self.assertIsNotNone(services.model_train())
        self.assertIsNone(services.model_train())
        self.assertEqual(ModelVersion.objects.count(), 1)

    def test_too_few_labels_keep_the_rules(self) -> None:
        for item_id, (_, category) in list(zip(self.ids, self.corpus, strict=True))[::4]:
            services.item_category_set(item_id=item_id, category=category, actor=self.alice)
        version = services.model_train()
        assert version is not None
        self.assertEqual((version.status, version.active), ("too_few", False))
        page = self.client_for(self.alice).get(reverse("radar:classifier"))
        self.assertContains(page, "Too few labels")
        self.assertContains(
            page, "10 labels; training needs 20, in at least two categories with two labels each"
        )
        client = self.client_for(self.alice)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        swedish = client.get(reverse("radar:classifier"))
        self.assertContains(swedish, "10 etiketter; träningen behöver 20")
        self.assertNotContains(swedish, "training needs")
        self.assertContains(page, "The rules")

    def test_a_stored_model_whose_bytes_were_changed_is_not_loaded(self) -> None:
        self.correct_all()
        version = services.model_train()
        assert version is not None and version.model_bytes is not None
        data = bytes(version.model_bytes)
        self.assertIsNotNone(learning.load(data, version.signature))
        tampered = data[:-1] + bytes([data[-1] ^ 1])
        with self.assertLogs("narvaro.radar.learning", "ERROR"):
            self.assertIsNone(learning.load(tampered, version.signature))
        ModelVersion.objects.filter(pk=version.pk).update(model_bytes=tampered)
        services._loaded.clear()
        self.addCleanup(services._loaded.clear)
        capture_batch(account=self.account_a, captures=[a_capture("x", "Tack!")], source="test")
        item = Item.objects.get(remote_id="x").pk
        with self.assertLogs("narvaro.radar.learning", "ERROR"):
            services.items_classify([item])
        self.assertEqual(Classification.objects.get(item_id=item).source, "rules")

    def test_the_explanation_names_the_rule_that_fired(self) -> None:
        page = self.client_for(self.alice).get(reverse("radar:item_explain", args=[self.ids[27]]))
        self.assertContains(page, "It begins the way a question does:")
        self.assertContains(page, "hur")
        self.assertEqual(selectors.item_categories([self.ids[27]]), {self.ids[27]: "question"})
