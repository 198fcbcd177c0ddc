"""How many public ticker frames/s the client decoder turns into TickerUpdated events on one core.

Two frame mixes, each timed against a baseline of bare `orjson.loads` on the very same frames:
  mainnet   a seeded mix shaped like bybit-v5.md §5.3: mostly best bid/ask deltas, then trade,
            mark/index, open-interest and funding deltas, and an occasional full snapshot
  sim       the deltas the embedded exchange pushes (its market and ticker encoder, 100 ms steps)

    python -m bench.decode_tickers --frames 20000 --repeat 7

Figures are the best of `repeat` interleaved passes over all frames (str input), so machine noise
hits the columns alike. The decoder is the one BybitClient gives its public shards, with each symbol's
price band (the mainnet mix walks BTCUSDT's prices for every symbol, so they all get BTCUSDT's band).
The decoder keeps ticker values as wire strings (converted when read);
`+read all/s` also reads every field of every event as its Decimal, i.e. what converting eagerly costs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from tui_bot.exchange.bybit.parse import Decoded, PriceBand, PublicDecoder
from tui_bot.sim import wire
from tui_bot.sim.instruments import market_specs
from tui_bot.sim.market import SymbolMarket
from tui_bot.sim.ticker_stream import TickerEncoder

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
START_MS = 1784712600000
TARGET = 100_000

Fields = dict[str, str]
Decode = Callable[[str | bytes, int], Decoded]


class Walk:
    """A seeded random walk of one symbol's quotes on BTCUSDT's 0.10 tick grid."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ticks = 1_042_504
        self.volume = 29741.134

    def price(self, offset: int = 0) -> str:
        """The current price, offset by whole ticks."""
        return f"{(self.ticks + offset) / 10:.2f}"

    def size(self) -> str:
        """A random top-of-book size on the 0.001 step."""
        return f"{self.rng.uniform(0.001, 5):.3f}"

    def bbo(self) -> Fields:
        """A best bid/ask delta after the price moves a few ticks."""
        self.ticks += self.rng.choice((-2, -1, 0, 0, 1, 2))
        return {
            "bid1Price": self.price(-1),
            "bid1Size": self.size(),
            "ask1Price": self.price(),
            "ask1Size": self.size(),
        }

    def trade(self) -> Fields:
        """A trade delta: last price, tick direction, 24 h volume/turnover/change."""
        self.volume += self.rng.uniform(0.001, 0.5)
        return {
            "lastPrice": self.price(),
            "tickDirection": self.rng.choice(["PlusTick", "MinusTick"]),
            "volume24h": f"{self.volume:.3f}",
            "turnover24h": f"{self.volume * 104250.4:.4f}",
            "price24hPcnt": f"{(self.ticks / 1_030_102 - 1):.6f}",
            "ask1Size": self.size(),
        }

    def mark(self) -> Fields:
        """A mark/index price delta."""
        return {"markPrice": self.price(self.rng.randint(-3, 3)), "indexPrice": self.price(self.rng.randint(-5, 5))}

    def open_interest(self) -> Fields:
        """An open-interest delta (with the single* duplicates Bybit sends)."""
        oi = f"{self.rng.uniform(52000, 53000):.3f}"
        value = f"{float(oi) * self.ticks / 10:.2f}"
        return {
            "openInterest": oi,
            "openInterestValue": value,
            "singleOpenInterest": oi,
            "singleOpenInterestValue": value,
        }

    def funding(self) -> Fields:
        """A funding-rate delta."""
        return {"fundingRate": f"{self.rng.uniform(-0.0005, 0.0005):.6f}", "nextFundingTime": "1784736000000"}


# (weight, kind of delta) for the mainnet-shaped mix.
MIX: tuple[tuple[int, Callable[[Walk], Fields]], ...] = (
    (60, Walk.bbo),
    (20, Walk.trade),
    (12, Walk.mark),
    (5, Walk.open_interest),
    (3, Walk.funding),
)


def mainnet_frames(count: int, seed: int = 7) -> list[str]:
    """Seeded ticker frames: one snapshot per 200 frames, deltas drawn from MIX otherwise."""
    rng = random.Random(seed)
    walks = {symbol: Walk(rng) for symbol in SYMBOLS}
    weights = [weight for weight, _ in MIX]
    builders = [builder for _, builder in MIX]
    snapshot = orjson.loads(open_fixture("ws_ticker_snapshot"))["data"]
    frames = []
    for index in range(count):
        symbol = SYMBOLS[index % len(SYMBOLS)]
        if index % 200 == 0:
            kind, data = "snapshot", {**snapshot, "symbol": symbol}
        else:
            kind, data = "delta", {"symbol": symbol, **rng.choices(builders, weights)[0](walks[symbol])}
        frames.append(
            orjson.dumps(wire.public_message(f"tickers.{symbol}", kind, START_MS + index, data, cs=index)).decode()
        )
    return frames


def sim_frames(count: int, seed: int = 7) -> list[str]:
    """Ticker frames as the embedded exchange streams them, round-robin over the symbols."""
    specs = market_specs(SYMBOLS)
    markets = [SymbolMarket(specs[s], seed, 0.1, START_MS) for s in SYMBOLS]
    encoders = [TickerEncoder(specs[s].instrument) for s in SYMBOLS]
    frames = []
    for index in range(count):
        slot = index % len(SYMBOLS)
        now = START_MS + 100 * (index // len(SYMBOLS) + 1)
        markets[slot].step(now)
        kind = "snapshot" if not encoders[slot].snapshot else "delta"
        data = encoders[slot].update(markets[slot].ticker())
        frames.append(orjson.dumps(wire.public_message(f"tickers.{SYMBOLS[slot]}", kind, now, data, cs=index)).decode())
    return frames


def open_fixture(name: str) -> bytes:
    """Raw bytes of a golden frame."""
    return (Path(__file__).parents[1] / "tests" / "fixtures" / f"{name}.json").read_bytes()


def one_pass(fn: Callable[[str], object], frames: list[str]) -> float:
    """Seconds one pass of fn over all frames takes."""
    start = time.perf_counter()
    for frame in frames:
        fn(frame)
    return time.perf_counter() - start


def decoder(mix: str) -> Decode:
    """The public decoder with the mix's price bands (see the module docstring)."""
    specs = market_specs(SYMBOLS)
    instruments = {s: specs["BTCUSDT" if mix == "mainnet" else s].instrument for s in SYMBOLS}
    return PublicDecoder({s: PriceBand(inst.min_price, inst.max_price) for s, inst in instruments.items()}).decode


def rates(decode_public: Decode, frames: list[str], repeat: int) -> tuple[float, float, float]:
    """Frames/s of orjson.loads, the decoder and decode + reading every field, best of interleaved passes."""

    def decode(frame: str) -> object:
        """The decoder under test, called as ws.py does."""
        return decode_public(frame, 0)

    def decode_and_read(frame: str) -> object:
        """Decode, then read every field as its Decimal/int/str (what an eager decoder would have built)."""
        events = decode_public(frame, 0)
        return dict(events[0].fields) if isinstance(events, list) and events else None

    best = [float("inf")] * 3
    for _ in range(repeat):
        times = (one_pass(orjson.loads, frames), one_pass(decode, frames), one_pass(decode_and_read, frames))
        best = [min(old, new) for old, new in zip(best, times, strict=True)]
    baseline, lazy, read_all = (len(frames) / seconds for seconds in best)
    return baseline, lazy, read_all


def field_count(frames: list[str]) -> float:
    """Average number of data keys per frame (symbol included)."""
    return sum(len(orjson.loads(f)["data"]) for f in frames) / len(frames)


def check(decode_public: Decode, frames: list[str]) -> None:
    """Fail fast unless every frame decodes to one TickerUpdated."""
    for frame in frames:
        events = decode_public(frame, 0)
        assert isinstance(events, list) and len(events) == 1, frame


def main() -> int:
    """Print both mixes' figures side by side with the orjson baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(
        f"{'mix':8} {'frames':>7} {'keys/frame':>10} {'orjson.loads/s':>15} "
        f"{'decode_public/s':>16} {'ratio':>6} {'us/frame':>9} {'+read all/s':>12}"
    )
    ok = True
    for name, build in (("mainnet", mainnet_frames), ("sim", sim_frames)):
        frames = build(args.frames)
        decode = decoder(name)
        check(decode, frames)
        baseline, decoded, read_all = rates(decode, frames, args.repeat)
        ok &= decoded >= TARGET
        print(
            f"{name:8} {len(frames):7d} {field_count(frames):10.1f} {baseline:15,.0f} "
            f"{decoded:16,.0f} {decoded / baseline:6.2f} {1e6 / decoded:9.2f} {read_all:12,.0f}"
        )
    print(f"target {TARGET:,} decodes/s per core: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
