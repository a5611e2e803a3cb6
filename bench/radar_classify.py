"""Claims: the radar classifies inbound items in bulk quickly, and its rules read real questions.

Figures, each beside a baseline from the same run:

1. **Throughput** of `radar.services.items_classify` (the call the inbox and the archive feed
   make): N inbound items classified and flagged (personnummer, sensitive data) and stored, in
   batches of 500, with the rules and then with a trained model in use. Baseline: the bare
   rules on the same texts in a Python loop (no database, no flags).
2. **Held-out macro-F1** of a model trained on the 40 labelled texts of the test corpus
   (5-fold stratified cross-validation) against the rules on the same labels.
3. **Questions read as questions**: the share of the 110 real citizens' questions in SweFAQ
   (../shared/testdata/text/swefaq_dev.jsonl) the rules call "question", as written and with
   their question marks removed (as people often write); baseline: a question mark alone.

Run: .venv/bin/python bench/radar_classify.py [ITEMS]   (default 5,000)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _setup import bench_account, django_on_fresh_sqlite

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
BATCH = 500
SWEFAQ = Path(__file__).resolve().parents[2] / "shared/testdata/text/swefaq_dev.jsonl"


def main() -> None:
    django_on_fresh_sqlite()
    from narvaro.archive.capture import CaptureInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch
    from narvaro.radar import learning, rules, services
    from narvaro.radar.models import Classification, Label
    from narvaro.radar.tests.corpus import labelled

    corpus = labelled()
    texts = [text for text, _ in corpus]
    extra = [
        "Mitt personnummer är 811218-9876, när får jag svar?",
        "Min son har diabetes, gäller skolskjutsen då?",
        "Skandal att ni stänger badhuset!",
        "Tack för en fin kväll på biblioteket 👏",
    ]
    pool = texts + extra
    account = bench_account()
    for start in range(0, ITEMS, 2000):
        capture_batch(
            account=account,
            captures=[
                CaptureInput(
                    platform="x",
                    remote_id=f"r{n}",
                    kind="comment",
                    direction="received",
                    text=f"{pool[n % len(pool)]} #{n}",
                    raw_payload="{}",
                )
                for n in range(start, min(ITEMS, start + 2000))
            ],
            source="bench",
        )
    ids = list(Item.objects.order_by("pk").values_list("pk", flat=True))
    sample = [pool[n % len(pool)] for n in range(ITEMS)]

    started = time.perf_counter()
    for text in sample:
        rules.classify(text)
    bare = ITEMS / (time.perf_counter() - started)

    def classify_all() -> float:
        Classification.objects.all().delete()
        started = time.perf_counter()
        for start in range(0, len(ids), BATCH):
            services.items_classify(ids[start : start + BATCH])
        return ITEMS / (time.perf_counter() - started)

    with_rules = classify_all()
    # The staff label the corpus: a model is trained and put in use if it beats the rules.
    from narvaro.core.models import User

    person = User.objects.create(username="bench", org_role=User.OrgRole.ADMIN)
    Label.objects.bulk_create(
        Label(item_id=item_id, category=category, person=person)
        for item_id, (_, category) in zip(ids, corpus, strict=False)
    )
    version = services.model_train(force=True)
    assert version is not None
    with_model = classify_all() if version.active else float("nan")

    evaluation = learning.evaluate(texts, [category for _, category in corpus])

    questions = [json.loads(line)["question"] for line in SWEFAQ.open(encoding="utf-8")]
    by_rules = sum(rules.classify(q).category == "question" for q in questions)
    by_mark = sum("?" in q for q in questions)
    # As people often write them: without the question mark.
    bare_questions = [q.replace("?", "").strip() for q in questions]
    by_rules_bare = sum(rules.classify(q).category == "question" for q in bare_questions)

    print(
        f"items_classify, rules:  {with_rules:,.0f} items/s ({ITEMS:,} items, batches of {BATCH})"
    )
    print(f"items_classify, model:  {with_model:,.0f} items/s (model in use: {version.active})")
    print(f"baseline, bare rules:   {bare:,.0f} texts/s (no database, no flags)")
    print(
        f"held-out macro-F1:      model {evaluation.model_f1:.3f} vs rules "
        f"{evaluation.rules_f1:.3f} ({len(corpus)} labels, {evaluation.folds} folds)"
    )
    print(
        f"SweFAQ questions:       {by_rules}/{len(questions)} read as questions by the rules; "
        f"baseline question mark alone {by_mark}/{len(questions)}"
    )
    print(
        f"  without their '?':    {by_rules_bare}/{len(questions)} by the rules; "
        f"baseline question mark alone 0/{len(questions)}"
    )


if __name__ == "__main__":
    main()
