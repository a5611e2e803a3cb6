"""Claim: suggested answers rank the right SweFAQ answer first for at least 70% of the questions.

Figure: for each question of a SweFAQ JSON Lines file, its candidate answers are loaded as
earlier answers and ranked for the question through `narvaro.inbox.suggest` (the code the inbox
uses); acc@1 is the share of questions whose right answer comes first, MRR the mean reciprocal
rank of the right answer. Baselines in the same run, on the same candidates: a plain BM25
(`bm25s` defaults: Lucene IDF, k1 1.5, b 0.75) over Swedish Snowball stems, and a random
ranking (its expected acc@1, the mean of 1 / candidates).

SweFAQ is from Språkbanken Text, University of Gothenburg (SuperLim 2), CC BY 4.0. The dev file
is read from ../shared/testdata/text/swefaq_dev.jsonl beside the repository by default.

Run: .venv/bin/python bench/suggest_swefaq.py [PATH] [--json] [--ablation] [--cv]
  --json      print one JSON object: {"questions", "acc_at_1", "baseline_bm25", "random", "mrr"}
  --ablation  also rank with each part of the method switched off or changed
  --cv        also report nested cross-validated acc@1: the parameters are chosen on the other
              categories (leave one category out) and scored on the held-out one
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from narvaro.inbox import suggest  # noqa: E402

DEFAULT_PATH = REPO.parent / "shared" / "testdata" / "text" / "swefaq_dev.jsonl"


@dataclass(frozen=True)
class FaqQuestion:
    question: str
    answers: list[str]
    right: int
    category: str


def read_swefaq(path: Path) -> list[FaqQuestion]:
    """The questions of a SweFAQ JSON Lines file; a bad line raises SystemExit naming it."""
    questions = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise SystemExit(f"{where}: not JSON ({error})") from None
            if not isinstance(row, dict):
                raise SystemExit(f"{where}: expected an object")
            question, answers, label = (
                row.get(k) for k in ("question", "candidate_answers", "label")
            )
            if not isinstance(question, str) or not question.strip():
                raise SystemExit(f"{where}: field 'question' must be a non-empty string")
            if (
                not isinstance(answers, list)
                or not answers
                or not all(isinstance(answer, str) for answer in answers)
            ):
                raise SystemExit(f"{where}: field 'candidate_answers' must be a list of strings")
            if (
                not isinstance(label, int)
                or isinstance(label, bool)
                or not 0 <= label < len(answers)
            ):
                raise SystemExit(
                    f"{where}: field 'label' must be an index into candidate_answers "
                    f"(0..{len(answers) - 1}), got {label!r}"
                )
            category = str(row.get("category_id", ""))
            questions.append(FaqQuestion(question, answers, label, category))
    if not questions:
        raise SystemExit(f"{path}: no questions")
    return questions


def ranks_of_right(questions: list[FaqQuestion]) -> list[int]:
    """1-based rank of each question's right answer when the inbox ranks its candidates.

    Questions with the same candidates (one SweFAQ category) share one `AnswerIndex`, as the
    inbox shares one per unit; the index is built anew on each call, so parameter changes count.
    """
    indexes: dict[tuple[str, ...], suggest.AnswerIndex] = {}
    ranks = []
    for item in questions:
        pool = tuple(item.answers)
        if pool not in indexes:
            indexes[pool] = suggest.AnswerIndex(
                [suggest.Candidate(text=answer, key=i) for i, answer in enumerate(pool)]
            )
        ranked = indexes[pool].rank(item.question)
        ranks.append([s.candidate.key for s in ranked].index(item.right) + 1)
    return ranks


def baseline_rank_of_right(item: FaqQuestion) -> int:
    """1-based rank of the right answer under plain BM25 over Swedish stems (ties: given order)."""
    index = bm25s.BM25()
    index.index([suggest.stems(answer, "sv") for answer in item.answers], show_progress=False)
    scores = np.asarray(index.get_scores(suggest.stems(item.question, "sv")), dtype=float)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return order.index(item.right) + 1


def measure(questions: list[FaqQuestion]) -> dict[str, float]:
    ranks = ranks_of_right(questions)
    return {
        "acc_at_1": sum(rank == 1 for rank in ranks) / len(ranks),
        "mrr": sum(1 / rank for rank in ranks) / len(ranks),
    }


@contextlib.contextmanager
def parameters(**values: float) -> Iterator[None]:
    """Temporarily set the ranker's module-level parameters (GRAM, B, STEM_WEIGHT, ...)."""
    saved = {name: getattr(suggest, name) for name in values}
    for name, value in values.items():
        setattr(suggest, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(suggest, name, value)


ABLATION: list[tuple[str, dict[str, float]]] = [
    ("the method (5-grams, b 0.5, stems, answer type, definition)", {}),
    ("without answer type", {"ANSWER_TYPE_WEIGHT": 0}),
    ("without definition opening", {"DEFINITION_WEIGHT": 0}),
    ("without stems", {"STEM_WEIGHT": 0}),
    ("without word pieces (stems only, + types)", {"PIECE_WEIGHT": 0}),
    ("length normalisation b 0.75", {"B": 0.75}),
    ("4-grams instead of 5-grams", {"GRAM": 4}),
    ("3-grams instead of 5-grams", {"GRAM": 3}),
    (
        "word pieces only (5-grams, b 0.5)",
        {"STEM_WEIGHT": 0, "ANSWER_TYPE_WEIGHT": 0, "DEFINITION_WEIGHT": 0},
    ),
]

GRID = {
    "GRAM": [4, 5],
    "B": [0.5, 0.75],
    "STEM_WEIGHT": [0, 0.25],
    "ANSWER_TYPE_WEIGHT": [0, 0.5, 1.0],
    "DEFINITION_WEIGHT": [0, 0.5, 1.0],
}

GRID_SETTINGS = [
    dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())
]


def cross_validated(
    questions: list[FaqQuestion],
) -> tuple[float, dict[str, float], list[float]]:
    """Nested leave-one-category-out acc@1 over GRID, the setting chosen on all questions, and
    the acc@1 of every setting in GRID (how much the figure hangs on the parameters).

    Ties between settings go to the one with fewer parts switched on, then to grid order, so
    the choice does not depend on noise between equally good settings.
    """
    settings = GRID_SETTINGS
    hits = np.zeros((len(settings), len(questions)), dtype=bool)
    for s, setting in enumerate(settings):
        with parameters(**setting):
            hits[s] = [rank == 1 for rank in ranks_of_right(questions)]
    parts = [
        sum(setting[k] > 0 for k in ("STEM_WEIGHT", "ANSWER_TYPE_WEIGHT", "DEFINITION_WEIGHT"))
        for setting in settings
    ]

    def best(mask: np.ndarray) -> int:
        return max(range(len(settings)), key=lambda s: (hits[s, mask].mean(), -parts[s], -s))

    categories = np.array([item.category for item in questions])
    held_out_hits = 0
    for category in sorted(set(categories)):
        test = categories == category
        held_out_hits += int(hits[best(~test), test].sum())
    chosen = settings[best(np.ones(len(questions), dtype=bool))]
    return held_out_hits / len(questions), chosen, [float(row.mean()) for row in hits]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--ablation", action="store_true", help="rank with parts switched off")
    parser.add_argument("--cv", action="store_true", help="nested cross-validated acc@1")
    args = parser.parse_args()
    if not args.path.is_file():
        raise SystemExit(f"{args.path}: no such file (a SweFAQ JSON Lines file is expected)")
    questions = read_swefaq(args.path)

    result: dict[str, object] = {"questions": len(questions), **measure(questions)}
    base_ranks = [baseline_rank_of_right(item) for item in questions]
    result["baseline_bm25"] = sum(rank == 1 for rank in base_ranks) / len(base_ranks)
    result["baseline_bm25_mrr"] = sum(1 / rank for rank in base_ranks) / len(base_ranks)
    result["random"] = sum(1 / len(item.answers) for item in questions) / len(questions)
    if args.ablation:
        result["ablation"] = {}
        for name, values in ABLATION:
            with parameters(**values):
                result["ablation"][name] = measure(questions)  # type: ignore[index]
    if args.cv:
        result["cv_acc_at_1"], result["cv_chosen"], grid = cross_validated(questions)
        result["grid_acc_at_1"] = {
            "min": min(grid),
            "median": float(np.median(grid)),
            "max": max(grid),
        }

    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    print(f"SweFAQ: {args.path} ({len(questions)} questions)")
    print(f"{'ranking':<62} {'acc@1':>6} {'MRR':>6}")
    print(f"{'narvaro.inbox.suggest':<62} {result['acc_at_1']:>6.1%} {result['mrr']:>6.3f}")
    print(
        f"{'baseline: plain BM25, Swedish stems':<62} {result['baseline_bm25']:>6.1%} "
        f"{result['baseline_bm25_mrr']:>6.3f}"
    )
    print(f"{'baseline: random (expected)':<62} {result['random']:>6.1%}")
    for name, figures in result.get("ablation", {}).items():  # type: ignore[attr-defined]
        print(f"{'  ' + name:<62} {figures['acc_at_1']:>6.1%} {figures['mrr']:>6.3f}")
    if args.cv:
        print(f"{'nested leave-one-category-out acc@1':<62} {result['cv_acc_at_1']:>6.1%}")
        print(f"  parameters chosen on all questions: {result['cv_chosen']}")
        spread: dict[str, float] = result["grid_acc_at_1"]  # type: ignore[assignment]
        print(
            f"  acc@1 over the {len(GRID_SETTINGS)} settings of the grid: min {spread['min']:.1%}, "
            f"median {spread['median']:.1%}, max {spread['max']:.1%}"
        )


if __name__ == "__main__":
    main()
