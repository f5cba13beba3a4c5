"""The model cards' held-out scores as Markdown tables, for ``dialoga models show`` and
``docs/models.md`` (which quotes this output rather than copying numbers by hand)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).parent / "shipped"
_SENTIMENT_COLUMNS = {
    "sentiment.it": ("polarity_score", "accuracy", "macro_f1"),
    "sentiment.en": ("accuracy", "macro_f1"),
    "intent": ("accuracy", "macro_f1"),
}


def cards() -> dict[str, dict[str, Any]]:
    """Every shipped card by tier (``fast``, and ``deep`` when it was trained)."""
    found = {}
    for path in sorted(SHIPPED.glob("*-card.json")):
        card = json.loads(path.read_text(encoding="utf-8"))
        found[str(card["tier"])] = card
    return found


def markdown(card: Mapping[str, Any]) -> str:
    """One table per task: each model of the run against the same held-out share."""
    lines: list[str] = []
    for task, scores in card["held_out_scores"].items():
        models = {name: value for name, value in scores.items() if isinstance(value, dict)}
        columns = _SENTIMENT_COLUMNS[task]
        examples = next(iter(models.values()))["examples"]
        lines += [
            f"**{task}** (held out: {examples}, trained on: {scores['train_examples']})",
            "",
            "| model | " + " | ".join(columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        lines += [
            f"| {name} | " + " | ".join(f"{model[c]:.3f}" for c in columns) + " |"
            for name, model in models.items()
        ]
        lines.append("")
        if task == "intent":
            lines += _per_class(models)
    return "\n".join(lines)


def _per_class(models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    names = list(models)
    classes = list(next(iter(models.values()))["per_class"])
    lines = [
        "| intent | n | " + " | ".join(f"{n} precision | {n} recall" for n in names) + " |",
        "|---|---:|" + "---:|---:|" * len(names),
    ]
    for cls in classes:
        cells = [
            f"{models[n]['per_class'][cls]['precision']:.2f} | "
            f"{models[n]['per_class'][cls]['recall']:.2f}"
            for n in names
        ]
        support = models[names[0]]["per_class"][cls]["n"]
        lines.append(f"| {cls} | {support} | " + " | ".join(cells) + " |")
    return [*lines, ""]


if __name__ == "__main__":
    for tier, card in cards().items():
        print(f"### {tier} tier\n\n{markdown(card)}")
