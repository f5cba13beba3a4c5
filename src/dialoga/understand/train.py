"""Trains the fast tier from ``../shared/data`` and writes ``shipped/fast.npz``.

    python -m dialoga.understand.train [--data ../shared/data]

Each task is first trained on its training share and scored on its held-out share,
beside a plain baseline (scikit-learn's default ``TfidfVectorizer`` and
``LogisticRegression``) trained on the same split in the same run; then the shipped
model is refit on all the data with the same settings. The scores go into the model's
card (``shipped/fast-card.json``), which ``docs/models.md`` quotes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from dialoga.understand import corpora
from dialoga.understand.corpora import Example, Split
from dialoga.understand.fast import HEAD_SHAPES, SHIPPED_FAST, FastModel, sentiment_scores
from dialoga.understand.features import counts, weighted
from dialoga.understand.heads import LinearHead
from dialoga.understand.scoring import report

STRENGTHS = (1.0, 2.5, 5.0, 10.0)  # inverse regularisation tried by cross-validation
TASK_DATA: dict[str, tuple[Callable[[Path], list[Example]], float]] = {
    "sentiment.it": (corpora.sentipolc, corpora.HELD_OUT_SHARE["sentiment"]),
    "sentiment.en": (corpora.airline, corpora.HELD_OUT_SHARE["sentiment"]),
    "intent": (corpora.intents, corpora.HELD_OUT_SHARE["intent"]),
}
CARD = SHIPPED_FAST.with_name("fast-card.json")


def fit_head(
    task: str, features: sp.csr_matrix, labels: Sequence[str], strength: float
) -> LinearHead:
    """One head: per-class logistic regressions (sigmoid) or one multinomial (softmax)."""
    classes, kind = HEAD_SHAPES[task]
    if kind == "sigmoid":
        rows = []
        for cls in classes:
            target = [label in (cls, "mixed") for label in labels]
            model = _logistic(strength, balanced=True).fit(features, target)
            rows.append((model.coef_[0], model.intercept_[0]))
        return LinearHead(
            classes, kind, np.vstack([r[0] for r in rows]), np.array([r[1] for r in rows])
        )
    model = _logistic(strength, balanced=task == "intent").fit(features, list(labels))
    order = [list(model.classes_).index(c) for c in classes]
    return LinearHead(classes, kind, model.coef_[order], model.intercept_[order])


def _logistic(strength: float, balanced: bool) -> LogisticRegression:
    return LogisticRegression(
        C=strength, max_iter=3000, class_weight="balanced" if balanced else None
    )


def predict(task: str, head: LinearHead, features: sp.csr_matrix | np.ndarray) -> list[str]:
    probabilities = head.probabilities(features)
    if task.startswith("sentiment"):
        return [_top(sentiment_scores(head, row)) for row in probabilities]
    return [head.classes[int(i)] for i in probabilities.argmax(axis=1)]


def _top(scores: dict[str, float]) -> str:
    return max(scores, key=scores.__getitem__)


def choose_strength(task: str, features: sp.csr_matrix, labels: list[str]) -> float:
    """The strength with the best mean cross-validated score on the training share."""
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    metric = "polarity_score" if task == "sentiment.it" else "macro_f1"
    if task == "sentiment.en":
        metric = "accuracy"
    best = (-1.0, STRENGTHS[0])
    for strength in STRENGTHS:
        scores = []
        for fit_rows, score_rows in folds.split(np.zeros(len(labels)), labels):
            head = fit_head(task, features[fit_rows], [labels[i] for i in fit_rows], strength)
            gold = [labels[i] for i in score_rows]
            found = report(task, gold, predict(task, head, features[score_rows]))[metric]
            scores.append(float(found))  # type: ignore[arg-type]
        best = max(best, (float(np.mean(scores)), strength))
    return best[1]


def baseline(task: str, split: Split) -> dict[str, object]:
    """The plain reference: default tf-idf words and default logistic regression."""
    vectorizer = TfidfVectorizer()
    model = LogisticRegression(max_iter=3000).fit(
        vectorizer.fit_transform([e.text for e in split.train]), [e.label for e in split.train]
    )
    predicted = model.predict(vectorizer.transform([e.text for e in split.held_out]))
    return report(task, [e.label for e in split.held_out], list(predicted))


def fit_idf(texts: Sequence[str]) -> np.ndarray:
    idf: np.ndarray = TfidfTransformer(sublinear_tf=True).fit(counts(texts)).idf_
    return idf.astype(np.float32)


def evaluate(splits: dict[str, Split]) -> tuple[dict[str, object], dict[str, float]]:
    """Scores on the held-out shares, with the baseline, and each task's strength."""
    idf = fit_idf([e.text for s in splits.values() for e in s.train])
    scores: dict[str, object] = {}
    strengths: dict[str, float] = {}
    for task, split in splits.items():
        train = weighted(counts([e.text for e in split.train]), idf)
        labels = [e.label for e in split.train]
        strengths[task] = choose_strength(task, train, labels)
        head = fit_head(task, train, labels, strengths[task])
        held_out = weighted(counts([e.text for e in split.held_out]), idf)
        gold = [e.label for e in split.held_out]
        scores[task] = {
            "fast": report(task, gold, predict(task, head, held_out)),
            "baseline": baseline(task, split),
            "train_examples": len(split.train),
            "strength": strengths[task],
        }
    return scores, strengths


def refit(everything: dict[str, list[Example]], strengths: dict[str, float]) -> FastModel:
    idf = fit_idf([e.text for examples in everything.values() for e in examples])
    heads = {}
    for task, examples in everything.items():
        features = weighted(counts([e.text for e in examples]), idf)
        heads[task] = fit_head(task, features, [e.label for e in examples], strengths[task])
    return FastModel(idf=idf, heads=heads, card={})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    everything = {task: load(args.data) for task, (load, _) in TASK_DATA.items()}
    splits = {task: corpora.split(everything[task], TASK_DATA[task][1]) for task in everything}
    scores, strengths = evaluate(splits)
    card = {
        "tier": "fast",
        "trained_on": {task: len(examples) for task, examples in everything.items()},
        "held_out_scores": scores,
        "note": "scores: trained on the training share, scored on the held-out share; "
        "the shipped heads are refit on all the data with the same settings",
    }
    model = refit(everything, strengths)
    model = FastModel(idf=model.idf, heads=model.heads, card=card)
    model.save(SHIPPED_FAST)
    CARD.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(scores, indent=2))
    print(
        f"written {SHIPPED_FAST} ({SHIPPED_FAST.stat().st_size / 1e6:.1f} MB) "
        f"in {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
