"""Learning from the staff: after 40 corrections the model beats the rules on held-out labels."""

from __future__ import annotations

from django.urls import reverse

from narvaro.archive.models import Item
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
