"""The learned score: trained on scripted outcomes (phantoms and trades that reached their target or stop) over
the recorded features, retrained every retrain_every new outcomes, saved and loaded with skops (trusted types
only), off with the reason until it has enough outcomes; the calibration table of the scored ideas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import skops.io as sio

from tests.store.conftest import db_path, db_url  # noqa: F401  (both backends)
from tui_bot.core import ml_model
from tui_bot.core.features import to_json
from tui_bot.core.ml_report import calibration
from tui_bot.core.ml_score import OFF_IN_CONFIG, MlScorer
from tui_bot.core.ml_settings import MlSettings
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Direction, Proposal, Recommendation
from tui_bot.store.db import Database, open_database
from tui_bot.store.ops import SaveCycle, SavePhantom, SaveRecommendation, SaveTrade
from tui_bot.store.outcomes import count_labelled, load_labelled
from tui_bot.store.repos import load_phantoms, load_recommendations
from tui_bot.store.rows import CycleRow, PhantomRow, Trade
from tui_bot.store.writer import StoreWriter

D = Decimal
SETTINGS = MlSettings(min_ml_score=0.5, min_outcomes=40, retrain_every=20)


def scripted_features(n: int) -> tuple[str, bool]:
    """Outcome n: a strength 0-1 that mostly decides the win (every 7th goes the other way), and a noise input."""
    strength = (n * 37 % 100) / 100
    won = (strength > 0.5) != (n % 7 == 0)
    features = {"features_version": 1, "strategy": "ema_trend", "side": "LONG", "rsi_14": strength * 100}
    return to_json({**features, "noise": (n * 53 % 17) / 17}), won


def scripted_outcome(n: int, outcome: str | None = None) -> tuple[Recommendation, PhantomRow]:
    """A rejected idea with scripted features and its phantom, closed at its target (win) or its stop (loss)."""
    features, won = scripted_features(n)
    rec = Recommendation(
        f"r{n}", "c1", "BTCUSDT", Side.BUY, D("0.7"), D(100), D(90), D(120), D(2), "ema_trend", "1.0", "scripted",
        "rejected", n, n, features=features,
    )  # fmt: skip
    outcome = outcome or ("win" if won else "loss")
    exit_price = D(120) if outcome == "win" else D(90)
    phantom = PhantomRow(
        f"ph-r{n}", rec.id, "BTCUSDT", Side.BUY, D(100), D(90), D(120), n, 10_000 + n, outcome, exit_price
    )
    return rec, phantom


async def save_outcomes(writer: StoreWriter, numbers: range, outcome: str | None = None) -> None:
    writer.enqueue(SaveCycle(CycleRow("c1", 0, "15", "done")))
    for n in numbers:
        rec, phantom = scripted_outcome(n, outcome)
        writer.enqueue(SaveRecommendation(rec))
        writer.enqueue(SavePhantom(phantom))
    await writer.flush()


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[tuple[Database, StoreWriter]]:  # noqa: F811
    db = await open_database(db_url)
    writer = StoreWriter(db, flush_interval=0.01)
    writer.start()
    yield db, writer
    await writer.stop()
    await db.close()


def idea(strength: float) -> Proposal:
    features = to_json({"features_version": 1, "strategy": "ema_trend", "side": "LONG", "rsi_14": strength * 100})
    return Proposal("BTCUSDT", Direction.LONG, 0.7, D(100), D(90), D(120), "why", "ema_trend", "1.0", features=features)


async def scorer_on(db: Database, folder: Path, settings: MlSettings = SETTINGS) -> MlScorer:
    scorer = MlScorer(db)
    scorer.configure(settings, folder)
    await scorer.start()
    return scorer


async def test_the_score_is_off_until_min_outcomes_then_trains_gates_and_retrains_every_n(
    store: tuple[Database, StoreWriter], tmp_path: Path
) -> None:
    db, writer = store
    await save_outcomes(writer, range(30))
    await save_outcomes(writer, range(30, 35), outcome="timeout")  # neither target nor stop: not an outcome
    scorer = await scorer_on(db, tmp_path)
    scorer.retrain_when_due()
    await scorer.wait()
    assert scorer.model is None and scorer.min_score() is None
    assert scorer.status == "learned score off: 30 of 40 outcomes needed to train (min_outcomes)"
    assert scorer.score([idea(0.9)]) == [idea(0.9)]

    await save_outcomes(writer, range(35, 65))
    scorer.retrain_when_due()
    await scorer.wait()
    model = scorer.model
    assert model is not None and (model.version, model.trained_on, model.train_size) == (1, 60, 45)
    assert model.auc is not None and model.auc > 0.8 and model.brier < 0.2, (model.auc, model.brier)
    assert scorer.min_score() == 0.5 and scorer.status.startswith("ML gate on: model v1 (trained on 45, AUC ")
    strong, weak = scorer.score([idea(0.9), idea(0.1)])
    assert strong.ml is not None and weak.ml is not None
    assert strong.ml.score > 0.5 > weak.ml.score
    assert (strong.ml.model_version, strong.ml.train_size, strong.ml.auc, strong.ml.brier) == (
        "1",
        45,
        model.auc,
        model.brier,
    )

    await save_outcomes(writer, range(65, 79))  # 14 new: not yet
    scorer.retrain_when_due()
    await scorer.wait()
    assert scorer.model is model
    await save_outcomes(writer, range(79, 85))  # 20 new since the training
    scorer.retrain_when_due()
    await scorer.wait()
    assert scorer.model is not None and (scorer.model.version, scorer.model.trained_on) == (2, 80)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["model-000001.skops", "model-000002.skops"]
    await scorer.stop()


async def test_a_saved_model_round_trips_through_skops_and_a_new_scorer_starts_with_it(
    store: tuple[Database, StoreWriter], tmp_path: Path
) -> None:
    db, writer = store
    await save_outcomes(writer, range(60))
    trained = ml_model.train([scripted_features(n) for n in range(60)], 7, 0.25)
    path = ml_model.save(trained, tmp_path / "models", keep=5)
    assert sio.get_untrusted_types(file=path)  # not trusted by default: our check decides
    loaded = ml_model.load(path)
    rows = [{"rsi_14": 10.0 * k, "strategy": "ema_trend", "side": "LONG"} for k in range(11)]
    assert loaded.probabilities(rows) == trained.probabilities(rows)
    assert (loaded.version, loaded.train_size, loaded.auc, loaded.brier) == (7, 45, trained.auc, trained.brier)
    scorer = await scorer_on(db, tmp_path)
    assert scorer.model is not None and scorer.model.version == 7 and scorer.min_score() == 0.5
    await scorer.stop()


async def test_a_model_file_with_an_untrusted_type_is_refused_and_the_gate_stays_off(
    store: tuple[Database, StoreWriter], tmp_path: Path
) -> None:
    db, _ = store
    folder = tmp_path / "models"
    folder.mkdir()
    sio.dump({"estimator": Path("x"), "version": 1}, folder / "model-000001.skops")  # pathlib is not trusted
    scorer = await scorer_on(db, tmp_path)
    assert scorer.model is None and scorer.min_score() is None
    assert "model file model-000001.skops refused: it holds untrusted types pathlib" in scorer.status
    await scorer.stop()


async def test_trades_that_hit_target_or_stop_are_outcomes_and_other_exits_are_not(
    store: tuple[Database, StoreWriter],
) -> None:
    db, writer = store
    await save_outcomes(writer, range(2))
    for n, reason, pnl in ((2, "take_profit", 5), (3, "stop_loss", -5), (4, "manual_exit", 9)):
        rec, _ = scripted_outcome(n)
        writer.enqueue(SaveRecommendation(replace(rec, status="executed", order_link_id=f"link{n}")))
        writer.enqueue(
            SaveTrade(
                Trade(
                    f"x{n}",
                    "BTCUSDT",
                    Side.BUY,
                    "closed",
                    D(1),
                    D(100),
                    n,
                    D(0),
                    D(1),
                    D(100 + pnl),
                    10_000 + n,
                    D(pnl),
                    None,
                    reason,
                    f"link{n}",
                )  # fmt: skip
            )
        )
    await writer.flush()
    assert await count_labelled(db) == 4
    wins = [scripted_features(n)[1] for n in range(2)]
    assert [(o.win, o.closed_ms) for o in await load_labelled(db)] == [
        (wins[0], 10_000),
        (wins[1], 10_001),
        (True, 10_002),
        (False, 10_003),
    ]


def test_calibration_buckets_compare_the_mean_score_with_the_realised_win_rate() -> None:
    rows = calibration([(0.1, False), (0.15, True), (0.7, True), (0.75, True), (0.65, False), (1.0, True)])
    assert [(r.low, r.high, r.count) for r in rows] == [(0.0, 0.2, 2), (0.6, 0.8, 3), (0.8, 1.0, 1)]
    assert rows[0].predicted == pytest.approx(0.125) and rows[0].realised == 0.5
    assert rows[1].predicted == pytest.approx(0.7) and rows[1].realised == pytest.approx(2 / 3)


async def test_off_in_config_says_so_and_never_gates(store: tuple[Database, StoreWriter], tmp_path: Path) -> None:
    db, writer = store
    await save_outcomes(writer, range(60))
    scorer = await scorer_on(db, tmp_path, SETTINGS.model_copy(update={"enabled": False}))
    scorer.retrain_when_due()
    await scorer.wait()
    assert scorer.status == OFF_IN_CONFIG and scorer.model is None and scorer.min_score() is None
    await scorer.stop()


async def test_features_score_and_model_figures_round_trip_through_the_store(
    store: tuple[Database, StoreWriter],
) -> None:
    db, writer = store
    rec, phantom = scripted_outcome(1)
    scored = replace(rec, ml_score=0.6180339887, ml_model_version="4", ml_train_size=150, ml_auc=0.71, ml_brier=0.2101)
    phantom = replace(phantom, features=rec.features)
    writer.enqueue(SaveCycle(CycleRow("c1", 0, "15", "done")))
    writer.enqueue(SaveRecommendation(scored))
    writer.enqueue(SavePhantom(phantom))
    await writer.flush()
    assert await load_recommendations(db) == [scored]
    assert await load_phantoms(db) == [phantom]
