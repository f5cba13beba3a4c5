"""Linear heads over a feature matrix: the weights the training script learned, as arrays.

A head is stored as plain arrays (no pickle), so a model file loads in milliseconds, is
safe to open and does not depend on the scikit-learn version that trained it.
``softmax`` heads pick one class; ``sigmoid`` heads score each class on its own (the
Italian positive and negative tasks, which may both hold: mixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

Kind = Literal["softmax", "sigmoid"]


@dataclass(frozen=True)
class LinearHead:
    """``coef`` is (classes, features); ``intercept`` one value per class.

    ``adjustment`` (same shape as ``coef``, sparse) is a workspace's retrained change,
    added to the shipped weights without copying them.
    """

    classes: tuple[str, ...]
    kind: Kind
    coef: np.ndarray
    intercept: np.ndarray
    adjustment: sp.csr_matrix | None = None

    def __post_init__(self) -> None:
        # Stored feature-major, so ``features @ coef.T`` reads it in place: the sparse
        # product wants its dense operand C-ordered and would copy it on every call.
        object.__setattr__(self, "coef", np.asfortranarray(self.coef))

    def logits(self, features: sp.csr_matrix | np.ndarray) -> np.ndarray:
        logits: np.ndarray = np.asarray(features @ self.coef.T, dtype=np.float64) + self.intercept
        if self.adjustment is not None:
            change = features @ self.adjustment.T
            logits += change.toarray() if sp.issparse(change) else np.asarray(change)
        return logits

    def probabilities(self, features: sp.csr_matrix | np.ndarray) -> np.ndarray:
        """(rows, classes): each row sums to 1 for softmax; independent for sigmoid."""
        return self.activate(self.logits(features))

    def activate(self, logits: np.ndarray) -> np.ndarray:
        probabilities: np.ndarray
        if self.kind == "sigmoid":
            probabilities = 1.0 / (1.0 + np.exp(-logits))
        else:
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The head as named arrays for ``np.savez_compressed``."""
        return {
            f"{prefix}.coef": self.coef.astype(np.float16),
            f"{prefix}.intercept": self.intercept.astype(np.float32),
        }

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], prefix: str, classes: tuple[str, ...], kind: Kind
    ) -> LinearHead:
        return cls(
            classes=classes,
            kind=kind,
            coef=arrays[f"{prefix}.coef"].astype(np.float32),
            intercept=arrays[f"{prefix}.intercept"].astype(np.float64),
        )
