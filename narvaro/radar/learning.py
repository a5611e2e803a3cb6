"""The classifier the organisation teaches: scikit-learn on its own labels, seeded by the rules.

Features (a `FeatureUnion`):

- **words**: TF-IDF over each word's Swedish and English Snowball stems (`text.model_terms`),
  plus emoji and "?"/"!";
- **word pieces**: TF-IDF over character 3-5-grams inside words, which catches Swedish
  compounds and misspellings ("snöröjningen", "snöröjnigen");
- **rules**: the rules' verdict (one-hot) and their signals (question mark, critique words ...),
  so the model starts from what the rules know and learns where the organisation differs.

The estimator is a multinomial logistic regression with balanced class weights: linear, so
"why it was classified so" is the features with the largest weight × value for the category.

Evaluation (`evaluate`): stratified k-fold cross-validation over the labels (k ≤ 5, each
category with at least k labels): every label is predicted by a model that did not see it.
The rules are scored on the same labels. Macro-F1 weighs the four categories equally, so a
model that calls everything "question" scores badly even when most items are questions.

A fitted model is stored as joblib bytes signed with an HMAC keyed by the SECRET_KEY
(`sign`); loading checks the signature first, because unpickling runs code: bytes that were
changed in the database are refused and the rules are used instead.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from django.conf import settings
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from narvaro.radar import rules
from narvaro.radar.text import clean, model_terms

logger = logging.getLogger(__name__)

MAX_FOLDS = 5
SIGNALS = ("question_mark", "interrogative", "asking", "critique", "praise", "negated_praise")


class RuleFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The rules' verdict and signals as features."""

    def fit(self, texts: Sequence[str], y: Any = None) -> RuleFeatures:
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        rows = []
        for text in texts:
            verdict = rules.classify(text)
            onehot = [1.0 if verdict.category == c else 0.0 for c in rules.CATEGORIES]
            rows.append(onehot + [min(verdict.signals[s], 3.0) / 3.0 for s in SIGNALS])
        return sparse.csr_matrix(np.array(rows, dtype=float).reshape(len(rows), -1))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = [f"rules={c}" for c in rules.CATEGORIES] + [f"signal={s}" for s in SIGNALS]
        return np.array(names, dtype=object)


def pipeline() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=model_terms, sublinear_tf=True)),
            (
                "pieces",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    preprocessor=clean,
                    sublinear_tf=True,
                    max_features=50_000,
                ),
            ),
            ("rules", RuleFeatures()),
        ]
    )
    estimator = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
    return Pipeline([("features", features), ("estimator", estimator)])


@dataclass
class Evaluation:
    """Held-out scores of the model and of the rules on the same labels."""

    folds: int
    model_f1: float
    rules_f1: float
    model_confusion: list[list[int]]
    rules_confusion: list[list[int]]
    class_counts: dict[str, int] = field(default_factory=dict)


def folds_possible(labels: Sequence[str]) -> int:
    """How many stratified folds the labels allow (0: fewer than two categories with 2+)."""
    counts = [labels.count(c) for c in set(labels)]
    if len(counts) < 2:
        return 0
    return max(0, min(MAX_FOLDS, min(counts)))


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    present = sorted(set(truth))
    return float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0))


def evaluate(texts: list[str], labels: list[str], *, seed: int = 0) -> Evaluation:
    """Cross-validated macro-F1 and confusion matrices (rows: true category, `CATEGORIES`)."""
    folds = folds_possible(labels)
    if folds < 2:
        raise ValueError("too few labels per category to hold any out")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with single_threaded():
        predicted = list(cross_val_predict(pipeline(), texts, labels, cv=splitter))
    by_rules = [rules.classify(text).category for text in texts]
    order = list(rules.CATEGORIES)
    return Evaluation(
        folds=folds,
        model_f1=macro_f1(labels, predicted),
        rules_f1=macro_f1(labels, by_rules),
        model_confusion=confusion_matrix(labels, predicted, labels=order).tolist(),
        rules_confusion=confusion_matrix(labels, by_rules, labels=order).tolist(),
        class_counts={c: labels.count(c) for c in order},
    )


def single_threaded() -> threadpool_limits:
    """BLAS on one thread: the problems are small, and a worker shares the machine with the
    web server and other workers; oversubscribed BLAS threads made one fit 30 times slower."""
    return threadpool_limits(limits=1)


def fit(texts: list[str], labels: list[str]) -> Pipeline:
    model = pipeline()
    with single_threaded():
        model.fit(texts, labels)
    return model


def sign(data: bytes) -> str:
    """HMAC-SHA256 of a stored model, keyed by the SECRET_KEY."""
    key = hashlib.sha256(b"narvaro.radar.model:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def dump(model: Pipeline) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    return data, sign(data)


def load(data: bytes, signature: str) -> Pipeline | None:
    """The stored model, or None when its bytes do not carry our signature (never unpickled)."""
    if not signature or not hmac.compare_digest(sign(data), signature):
        logger.error("radar: a stored model's signature does not match; using the rules")
        return None
    try:
        model: Pipeline = joblib.load(io.BytesIO(data))
    except Exception:  # a model from an incompatible scikit-learn: retrain, use the rules
        logger.exception("radar: a stored model could not be loaded; using the rules")
        return None
    return model


@dataclass(frozen=True)
class Reading:
    """A category for one text and where it came from."""

    category: str
    source: str  # "rules" or "model"
    rule: str
    words: tuple[str, ...]
    confidence: float | None = None


def read(texts: list[str], model: Pipeline | None) -> list[Reading]:
    """The category of each text: by the model when given, else by the rules."""
    verdicts = [rules.classify(text) for text in texts]
    if model is None or not texts:
        return [Reading(v.category, "rules", v.rule, v.words) for v in verdicts]
    with single_threaded():
        probabilities = model.predict_proba(texts)
    classes = list(model.classes_)
    readings = []
    for verdict, row in zip(verdicts, probabilities, strict=True):
        best = int(np.argmax(row))
        readings.append(
            Reading(classes[best], "model", verdict.rule, verdict.words, round(float(row[best]), 3))
        )
    return readings


@dataclass(frozen=True)
class Weight:
    """A feature that pushed a text towards its category, with its share of the push."""

    kind: str  # "word", "piece", "rule"
    term: str
    weight: float


def top_terms(model: Pipeline, text: str, category: str, *, limit: int = 8) -> list[Weight]:
    """The features of `text` with the largest weight × value towards `category`."""
    features: FeatureUnion = model.named_steps["features"]
    estimator: LogisticRegression = model.named_steps["estimator"]
    classes = list(estimator.classes_)
    if category not in classes:
        return []
    row = features.transform([text]).tocsr()
    coef = estimator.coef_
    if coef.shape[0] == 1:  # two categories: one row of weights, for classes_[1]
        weights = coef[0] if classes.index(category) == 1 else -coef[0]
    else:
        weights = coef[classes.index(category)]
    names = features.get_feature_names_out()
    found = []
    for index, value in zip(row.indices, row.data, strict=True):
        contribution = float(value * weights[index])
        if contribution > 0:
            found.append((contribution, str(names[index])))
    found.sort(reverse=True)
    return [_weight(name, contribution) for contribution, name in found[:limit]]


def _weight(name: str, contribution: float) -> Weight:
    block, _, term = name.partition("__")
    if block == "words":
        kind, term = "word", term.partition(":")[2] or term
    elif block == "pieces":
        kind = "piece"
    else:
        kind = "rule"
    return Weight(kind, term, round(contribution, 3))
