"""What each fault of the admin endpoint takes: one validation for `tui-bot fault` and for the endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, ValidationError, field_validator

from tui_bot.domain.validation import reason
from tui_bot.sim.faults import CORRUPT_FIELDS, REST_FAULT_MESSAGES


class FaultParams(BaseModel):
    """A fault that takes no parameters; the subclasses add theirs (a typo must not silently arm nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Counted(FaultParams):
    """A fault that fires on the next `count` messages or requests."""

    count: int = Field(1, ge=1)


class Drop(FaultParams):
    kind: Literal["public", "private", "trade", "all"] = "all"


class Stall(FaultParams):
    topic: str = Field(min_length=1)
    seconds: FiniteFloat = Field(5, gt=0)


class BookGap(Counted):
    """Withhold the next `count` deltas of the orderbook topics matching `topic` (fnmatch)."""

    topic: str = Field("orderbook.*", min_length=1)


class RestError(Counted):
    code: int = 10016

    @field_validator("code")
    @classmethod
    def _known(cls, code: int) -> int:
        if code not in REST_FAULT_MESSAGES:
            raise ValueError(f"must be one of {', '.join(map(str, sorted(REST_FAULT_MESSAGES)))}")
        return code


class ClockSkew(FaultParams):
    ms: int = 0


class RejectOrder(Counted):
    code: int = 110007
    msg: str = "ab not enough for new order"


class CorruptRest(Counted):
    path: str
    field: str = ""

    @field_validator("path")
    @classmethod
    def _served(cls, path: str) -> str:
        if path not in CORRUPT_FIELDS:
            raise ValueError(f"must be one of {', '.join(CORRUPT_FIELDS)}")
        return path


FAULT_PARAMS: dict[str, type[FaultParams]] = {
    "drop": Drop,
    "stall": Stall,
    "duplicate": Counted,
    "reorder": Counted,
    "rest-error": RestError,
    "clock-skew": ClockSkew,
    "reject-order": RejectOrder,
    "lose-reply": Counted,
    "wipe-order-cache": FaultParams,
    "corrupt-rest": CorruptRest,
    "book-gap": BookGap,
    "clear": FaultParams,
}


class FaultParamsError(ValueError):
    """Bad parameters for a fault; the one-line message names each bad key and what the fault takes."""


def fault_params(name: str, data: Mapping[str, object]) -> FaultParams:
    """data checked for fault `name` (KeyError for an unknown fault, FaultParamsError for bad data)."""
    model = FAULT_PARAMS[name]
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {reason(e)}" for e in err.errors())
        takes = ", ".join(model.model_fields) or "no parameters"
        raise FaultParamsError(f"{problems}; {name} takes {takes}") from None
