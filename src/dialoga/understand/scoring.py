"""The scores the model card reports, computed the way each task's benchmark defines them.

SENTIPOLC's polarity score is the mean, over the positive and the negative task, of the
macro-F1 of each binary task (mixed counts as positive and as negative).
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support


def polarity_score(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """EVALITA 2016 SENTIPOLC task 2 score from four-class labels."""
    scores = []
    for side in ("positive", "negative"):
        gold_side = [label in (side, "mixed") for label in gold]
        predicted_side = [label in (side, "mixed") for label in predicted]
        scores.append(f1_score(gold_side, predicted_side, average="macro"))
    return float(sum(scores) / 2)


def report(task: str, gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    """Accuracy and macro-F1, the polarity score for Italian sentiment, and per-class
    precision and recall for intent."""
    result: dict[str, object] = {
        "examples": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
    }
    if task == "sentiment.it":
        result["polarity_score"] = round(polarity_score(gold, predicted), 4)
    if task == "intent":
        labels = sorted(set(gold))
        precision, recall, _, support = precision_recall_fscore_support(
            gold, predicted, labels=labels, zero_division=0
        )
        result["per_class"] = {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "n": int(n)}
            for label, p, r, n in zip(labels, precision, recall, support, strict=True)
        }
    return result
