"""Scores of a binary change map against labels: precision, recall, F1 and IoU of the change class."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, predicted: np.ndarray, truth: np.ndarray) -> Confusion:
        if predicted.shape != truth.shape:
            raise ValueError(f"prediction {predicted.shape} and labels {truth.shape} differ in shape")
        p, t = predicted.astype(bool), truth.astype(bool)
        tp = int((p & t).sum())
        fp = int((p & ~t).sum())
        fn = int((~p & t).sum())
        return cls(tp, fp, fn, int(p.size) - tp - fp - fn)

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    # An empty denominator means nothing was predicted (precision) or there was nothing to find (recall):
    # both count as 0, so a method cannot score by predicting nothing.
    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def iou(self) -> float:
        return self.tp / (self.tp + self.fp + self.fn) if self.tp else 0.0

    def metrics(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "iou": self.iou}


def mean_metrics(rows: Sequence[dict[str, float]], keys: Sequence[str]) -> dict[str, float]:
    """Unweighted mean over cities of each key (every city counts the same, however large)."""
    return {k: float(np.mean([r[k] for r in rows])) if rows else float("nan") for k in keys}
