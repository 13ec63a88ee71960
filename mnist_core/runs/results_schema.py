"""The schema of what a finished run writes about its model: evaluation.json (test-set scores), watch.json
(guesses on fixed digits per epoch) and finetune.json (what a fine-tune changed)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from mnist_core.runs.schema_types import Count, Digit, Seconds, Share, StrictModel

MAX_TEST_DIGITS = 100_000  # evaluation arrays: MNIST's test set has 10,000
MAX_WATCH_DIGITS, MAX_WATCH_ROWS = 1_000, 1_001
MAX_HELD_OUT = 5_000  # finetune.json's rows: My digits holds at most 5,000


class ClassScore(StrictModel):
    digit: Digit
    precision: Share
    recall: Share
    f1: Share
    support: Count


class EvaluationSummary(StrictModel):
    """evaluation.json: the test-set scores (its arrays are in evaluation.npz)."""

    loss: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]
    accuracy: Share
    n: Annotated[int, Field(ge=1, le=MAX_TEST_DIGITS)]
    confusion: Annotated[
        list[Annotated[list[Count], Field(min_length=10, max_length=10)]], Field(min_length=10, max_length=10)
    ]
    per_class: Annotated[list[ClassScore], Field(min_length=10, max_length=10)]

    @model_validator(mode="after")
    def _consistent(self) -> EvaluationSummary:
        if sum(map(sum, self.confusion)) != self.n:
            raise ValueError("the confusion matrix does not add up to n")
        if abs(sum(self.confusion[i][i] for i in range(10)) / self.n - self.accuracy) > 1e-6:
            raise ValueError("accuracy does not match the confusion matrix")
        return self


class WatchRow(StrictModel):
    epoch: Annotated[int, Field(ge=0, le=100_000)]
    guesses: Annotated[list[Digit], Field(max_length=MAX_WATCH_DIGITS)]
    confidence: Annotated[list[Share], Field(max_length=MAX_WATCH_DIGITS)]
    accuracy: Share | None = None
    cost_s: Seconds | None = None


class WatchFile(StrictModel):
    """watch.json: fixed digits (images as base64 of uint8 (N, 28, 28)) and one row of guesses per epoch."""

    source: str = Field(max_length=200)
    indices: Annotated[list[Count], Field(max_length=MAX_WATCH_DIGITS)]
    labels: Annotated[list[Digit], Field(min_length=1, max_length=MAX_WATCH_DIGITS)]
    images: str = Field(max_length=(MAX_WATCH_DIGITS * 784 * 4) // 3 + 4)
    rows: Annotated[list[WatchRow], Field(max_length=MAX_WATCH_ROWS)]

    @model_validator(mode="after")
    def _consistent(self) -> WatchFile:
        import base64
        import binascii

        n = len(self.labels)
        try:
            pixels = base64.b64decode(self.images, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("images is not base64") from None
        if len(self.indices) != n or len(pixels) != n * 784:
            raise ValueError(f"indices and images do not hold {n} digits like labels")
        if any(len(row.guesses) != n or len(row.confidence) != n for row in self.rows):
            raise ValueError(f"a row does not hold {n} guesses and confidences")
        return self


class Scores(StrictModel):
    n: Count
    before: Share | None = None
    after: Share | None = None


class HeldOutRow(StrictModel):
    id: str = Field(max_length=200)
    label: Digit
    before: Digit
    after: Digit
    confidence_before: Share
    confidence_after: Share


class FinetuneFile(StrictModel):
    """finetune.json: what a fine-tune changed, on held-out My digits and on the test set."""

    base_model: str = Field(max_length=4096)
    train: Annotated[dict[Annotated[str, Field(max_length=40)], Count], Field(max_length=20)]
    holdout: Scores
    test: Scores
    held_out: Annotated[list[HeldOutRow], Field(max_length=MAX_HELD_OUT)]
