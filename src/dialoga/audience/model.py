"""The fake-follower model: an additive model whose every feature's effect is a table.

The training script (``audience/train.py``) fits a logistic regression over spline bases
of the profile features, then tabulates each feature's effect on a fine grid. Scoring is
one ``np.interp`` per feature for a whole batch, and the effects are the reasons: a
feature's contribution is exactly how much it moved the verdict. A feature the profile
lacks contributes nothing (its average effect over the training profiles).
The file is plain arrays (no pickle), like the message models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from dialoga.audience.features import FEATURES

SHIPPED = Path(__file__).parent / "shipped"
MODEL_FILE = SHIPPED / "fake-followers.npz"
CARD_FILE = SHIPPED / "fake-followers-card.json"


@dataclass(frozen=True)
class AdditiveModel:
    """``grid[j]`` and ``effect[j]`` tabulate feature j's centred effect on the logit."""

    features: tuple[str, ...]
    grid: np.ndarray
    effect: np.ndarray
    intercept: float
    threshold: float

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """(profiles, features): each feature's push on the logit; 0 where it is unknown."""
        pushes = np.empty_like(matrix)
        for column in range(matrix.shape[1]):
            values = matrix[:, column]
            pushes[:, column] = np.interp(values, self.grid[column], self.effect[column])
        pushes[np.isnan(matrix)] = 0.0
        return pushes

    def probabilities(self, contributions: np.ndarray) -> np.ndarray:
        logits = self.intercept + contributions.sum(axis=1)
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-logits))
        return probabilities

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            features=np.array(self.features),
            grid=self.grid,
            effect=self.effect,
            intercept=np.array([self.intercept]),
            threshold=np.array([self.threshold]),
        )

    @classmethod
    def load(cls, path: Path) -> AdditiveModel:
        with np.load(path, allow_pickle=False) as arrays:
            features = tuple(str(name) for name in arrays["features"])
            if features != FEATURES:
                raise ValueError(
                    f"{path.name} was trained on other profile features; retrain it with "
                    "python -m dialoga.audience.train"
                )
            return cls(
                features,
                arrays["grid"],
                arrays["effect"],
                float(arrays["intercept"][0]),
                float(arrays["threshold"][0]),
            )


@cache
def shipped_model() -> AdditiveModel:
    """The model shipped with Dialoga (loaded once)."""
    return AdditiveModel.load(MODEL_FILE)


def shipped_card() -> dict[str, Any]:
    card: dict[str, Any] = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    return card
