"""The field types every run file's schema is built from: strict models, finite numbers in range."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Time = Annotated[float, Field(ge=0, le=4e9, allow_inf_nan=False)]  # unix seconds, up to the year 2096
Seconds = Annotated[float, Field(ge=0, le=1e8, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10**9)]
Digit = Annotated[int, Field(ge=0, le=9)]


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
