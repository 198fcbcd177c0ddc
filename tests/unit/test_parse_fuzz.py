"""Fuzzed and truncated frames: every decoder either decodes or raises FrameError, never anything else.

About 10,000 frames in all, each fed to decode_public, decode_private and decode_trade:
every cut point of every WS golden frame, plus seeded hypothesis examples of random text,
golden frames with one to three values swapped for other JSON (or removed), and random
envelopes built from topic names and the wire keys of the golden items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import FIXTURES, load_fixture
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse import decode_private, decode_public, decode_trade

TEXT_EXAMPLES = 300
SWAP_EXAMPLES = 1000
ENVELOPE_EXAMPLES = 400
PLANNED_TOTAL = 10_000

WS_FIXTURES = sorted(path.stem for path in FIXTURES.glob("ws_*.json"))
DECODERS: tuple[Callable[[str | bytes], object], ...] = (
    lambda raw: decode_public(raw, 0),
    lambda raw: decode_private(raw, 0),
    decode_trade,
)
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Tally:
    """Frames fed and how each decode ended (a frame is fed to all three decoders)."""

    frames: int = 0
    decoded: int = 0
    rejected: int = 0

    def feed(self, raw: str | bytes) -> None:
        """Run raw through every decoder; any exception other than FrameError escapes."""
        self.frames += 1
        for decode in DECODERS:
            try:
                decode(raw)
            except FrameError:
                self.rejected += 1
            else:
                self.decoded += 1

    def check(self, frames: int) -> None:
        """Every decode ended in exactly one of the two outcomes, for the expected frame count."""
        assert self.frames == frames
        assert self.decoded + self.rejected == len(DECODERS) * frames


def golden_bytes() -> dict[str, bytes]:
    """Each WS golden frame as compact JSON bytes."""
    return {name: orjson.dumps(load_fixture(name)) for name in WS_FIXTURES}


def truncation_count() -> int:
    """How many frames the truncation test feeds: every cut point 0..len of every frame."""
    return sum(len(raw) + 1 for raw in golden_bytes().values())


def test_fuzz_plan_reaches_ten_thousand_frames() -> None:
    total = truncation_count() + TEXT_EXAMPLES + SWAP_EXAMPLES + ENVELOPE_EXAMPLES
    assert len(WS_FIXTURES) >= 20
    assert total >= PLANNED_TOTAL


def test_every_truncation_of_every_golden_frame() -> None:
    prefixes, whole = Tally(), Tally()
    for raw in golden_bytes().values():
        for cut in range(len(raw)):
            piece = raw[:cut]
            prefixes.feed(piece if cut % 2 else piece.decode())
        whole.feed(raw)
    prefixes.check(truncation_count() - len(WS_FIXTURES))
    whole.check(len(WS_FIXTURES))
    assert prefixes.decoded == 0
    # Each whole frame decodes on its own socket's decoder; public/private control shapes overlap.
    assert len(WS_FIXTURES) <= whole.decoded <= 2 * len(WS_FIXTURES)


@st.composite
def any_text(draw: st.DrawFn) -> str | bytes:
    """Random unicode text, random bytes, or JSON-looking noise."""
    noise = st.text(alphabet='{}[]":,0123456789.-etruanfl \\', max_size=60)
    return draw(st.one_of(st.text(max_size=80), st.binary(max_size=80), noise))


def test_random_text() -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=TEXT_EXAMPLES)
    @given(any_text())
    def run(raw: str | bytes) -> None:
        tally.feed(raw)

    run()
    tally.check(TEXT_EXAMPLES)


NUMBERISH = st.sampled_from(
    [
        "",
        "0",
        "0.00",
        "-1",
        "NaN",
        "sNaN",
        "Infinity",
        "1e999999",
        "1_000",
        " 7 ",
        "0x1f",
        "9" * 5000,
        "١٢",
        "Buy",
        "UNKNOWN",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    NUMBERISH,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_REMOVE = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value."""
    found: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


GOLDEN = {name: load_fixture(name) for name in WS_FIXTURES}
GOLDEN_BYTES = golden_bytes()
PATHS = {name: _paths(frame) for name, frame in GOLDEN.items()}
SWAP_VALUES = st.one_of(NUMBERISH, JSON_VALUES, st.just(_REMOVE))


def _holds(container: Any, key: Any) -> bool:
    """True when container has key (an object key or an in-range list index)."""
    if isinstance(container, dict):
        return key in container
    return isinstance(container, list) and isinstance(key, int) and key < len(container)


def _replace(frame: Any, path: tuple[Any, ...], value: Any) -> None:
    """Replace (or remove) the value at path, unless an earlier swap already changed the way there."""
    parent = frame
    for key in path[:-1]:
        if not _holds(parent, key):
            return
        parent = parent[key]
    if not _holds(parent, path[-1]):
        return
    if value is not _REMOVE:
        parent[path[-1]] = value
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])


@st.composite
def swapped_frames(draw: st.DrawFn) -> bytes:
    """A golden frame with one to three of its values replaced by other JSON (or removed)."""
    name = draw(st.sampled_from(WS_FIXTURES))
    frame = orjson.loads(GOLDEN_BYTES[name])
    for path in draw(st.lists(st.sampled_from(PATHS[name]), min_size=1, max_size=3)):
        _replace(frame, path, draw(SWAP_VALUES))
    return orjson.dumps(frame)


def test_golden_frames_with_values_swapped() -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=SWAP_EXAMPLES)
    @given(swapped_frames())
    def run(raw: bytes) -> None:
        tally.feed(raw)

    run()
    tally.check(SWAP_EXAMPLES)
    assert tally.decoded > 0 and tally.rejected > 0


def _item_keys() -> list[str]:
    """Every key of every data item in the golden frames."""
    keys: set[str] = set()
    for frame in GOLDEN.values():
        data = frame.get("data")
        for item in data if isinstance(data, list) else [data] if isinstance(data, dict) else []:
            if isinstance(item, dict):
                keys |= set(item)
    return sorted(keys)


TOPICS = st.sampled_from(
    [
        "tickers.BTCUSDT",
        "kline.1.BTCUSDT",
        "kline.1",
        "publicTrade.BTCUSDT",
        "orderbook.50.BTCUSDT",
        "order",
        "order.linear",
        "execution",
        "execution.linear",
        "position",
        "position.linear",
        "wallet",
        "greeks",
        "tickers",
        "",
    ]
) | st.text(max_size=12)
ITEM_VALUES = st.one_of(
    NUMBERISH,
    SCALARS,
    st.sampled_from(
        [
            "Buy",
            "Sell",
            "Filled",
            "New",
            "Market",
            "Limit",
            "GTC",
            "IOC",
            "Trade",
            "Funding",
            "1784712600123",
            "104250.40",
            "linear",
            "spot",
        ]
    ),
)
ITEMS = st.dictionaries(st.sampled_from(_item_keys()), ITEM_VALUES, max_size=25)
ENVELOPES = st.fixed_dictionaries(
    {"topic": TOPICS},
    optional={
        "type": st.sampled_from(["snapshot", "delta", "", None]),
        "ts": st.integers(0, 2**40) | SCALARS,
        "creationTime": st.integers(0, 2**40) | SCALARS,
        "data": st.one_of(ITEMS, st.lists(ITEMS, max_size=3), JSON_VALUES),
        "op": st.sampled_from(["auth", "subscribe", "pong", "ping"]) | SCALARS,
        "success": SCALARS,
        "retCode": SCALARS,
        "args": JSON_VALUES,
    },
)


def test_random_envelopes_with_topics_and_wire_keys() -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=ENVELOPE_EXAMPLES)
    @given(ENVELOPES, st.booleans())
    def run(envelope: dict[str, Any], drop_topic: bool) -> None:
        if drop_topic:
            envelope.pop("topic")
        tally.feed(orjson.dumps(envelope))

    run()
    tally.check(ENVELOPE_EXAMPLES)
    assert tally.decoded > 0 and tally.rejected > 0
