"""The min_ml_score gate: an idea scored below it is rejected with the reason and followed as a phantom, its
score and model stored with it; the bot on the embedded exchange trains on its stored outcomes and gates the next
cycle with that model; without the ml extra the gate is off and the console's stats say why."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from tests.bot.test_cycle import PERMISSIVE, settings_with
from tests.core.test_ml_score import save_outcomes, scripted_features
from tests.unit.test_gating import idea
from tui_bot.core import ml_model
from tui_bot.core.gating import GateBook, gate
from tui_bot.core.ml_settings import MlSettings
from tui_bot.domain.recommendations import MlStamp
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.runtime import start_runtime
from tui_bot.store.repos import load_phantoms, load_recommendations


def _book(min_ml_score: float | None) -> GateBook:
    return GateBook(TradingSettings(), 3, set(), min_ml_score=min_ml_score)


def test_an_idea_scored_below_the_minimum_is_rejected_with_the_score_and_the_model() -> None:
    low, high = (
        replace(idea(), ml=MlStamp(0.31, "3", 45, 0.8, 0.15)),
        replace(idea(), ml=MlStamp(0.7, "3", 45, None, 0.2)),
    )
    verdict = gate(low, _book(0.4))
    assert not verdict.passed and verdict.reason == "ML score 0.31 below min_ml_score 0.40 (model v3)"
    assert gate(high, _book(0.4)).passed
    assert gate(low, _book(None)).passed  # no minimum: the score does not gate
    assert gate(idea(), _book(0.4)).passed  # an idea without a score is not gated


def _pretrained(data_dir: Path) -> None:
    """A model file (v1) under data_dir/models, trained on scripted outcomes."""
    model = ml_model.train([scripted_features(n) for n in range(60)], 1, 0.25)
    ml_model.save(model, MlSettings().models_under(data_dir), keep=5)


async def test_a_cycle_scores_every_idea_and_the_gate_rejects_those_below_it_as_phantoms(tmp_path: Path) -> None:
    _pretrained(tmp_path)
    settings = settings_with(**PERMISSIVE)
    settings.ml = MlSettings(min_ml_score=0.99, min_outcomes=40)
    rt = await start_runtime(settings, tmp_path / "bot.db", schedule_cycles=False)
    try:
        assert rt.bot is not None and rt.bot.ml.min_score() == 0.99
        cycle = await rt.bot.run_cycle("test")
        await rt.writer.flush()
        recs = await load_recommendations(rt.conn, cycle.id)
        assert recs and cycle.approved == 0
        for rec in recs:
            assert rec.ml_score is not None and rec.ml_score < 0.99
            assert (rec.ml_model_version, rec.ml_train_size) == ("1", 45) and rec.ml_brier is not None
            assert rec.status == "rejected"
            assert rec.fate == f"ML score {rec.ml_score:.2f} below min_ml_score 0.99 (model v1)"
        assert {p.recommendation_id for p in await load_phantoms(rt.conn)} == {r.id for r in recs}
        report = await rt.backend.stats_report()
        assert report.ml is not None and report.ml.gating
        assert report.ml.status.startswith("ML gate on: model v1 (trained on 45, AUC ")
    finally:
        await rt.close()


async def test_the_bot_trains_on_its_stored_outcomes_then_the_next_cycle_is_scored_and_gated(tmp_path: Path) -> None:
    settings = settings_with(**PERMISSIVE)
    settings.ml = MlSettings(min_ml_score=0.99, min_outcomes=40)
    rt = await start_runtime(settings, tmp_path / "bot.db", schedule_cycles=False)
    try:
        bot = rt.bot
        assert bot is not None and bot.ml.model is None and bot.ml.min_score() is None
        await save_outcomes(rt.writer, range(60))  # ideas followed as phantoms to their target or stop
        first = await bot.run_cycle("first")  # no model yet: scored by none; the training starts in the background
        await bot.ml.wait()
        model = bot.ml.model
        assert model is not None and (model.version, model.trained_on, model.train_size) == (1, 60, 45)
        assert [p.name for p in (tmp_path / "models").iterdir()] == ["model-000001.skops"]
        second = await bot.run_cycle("second")
        await rt.writer.flush()
        unscored, scored = await load_recommendations(rt.conn, first.id), await load_recommendations(rt.conn, second.id)
        assert unscored and all(r.ml_score is None for r in unscored)
        assert scored and second.approved == 0
        for rec in scored:
            assert (rec.ml_model_version, rec.ml_train_size, rec.ml_brier) == ("1", 45, model.brier)
            assert rec.status == "rejected"
            assert rec.fate == f"ML score {rec.ml_score:.2f} below min_ml_score 0.99 (model v1)"
        summary = rt.backend.last_cycle()
        assert summary is not None and summary.ml_status.startswith("ML gate on: model v1 (trained on 45, AUC ")
        assert dict(summary.top_rejections(3))["ML score below min_ml_score 0.99"] == len(scored)
    finally:
        await rt.close()


RUN_WITHOUT_SKLEARN = """
import asyncio, json, sys
sys.modules["sklearn"] = None  # as if the ml extra were not installed
from tui_bot.core.ml_settings import MlSettings
from tui_bot.runtime import start_runtime
from tests.bot.test_cycle import PERMISSIVE, settings_with

async def main():
    settings = settings_with(**PERMISSIVE)
    settings.ml = MlSettings(min_ml_score=0.99, min_outcomes=40)
    rt = await start_runtime(settings, sys.argv[1], schedule_cycles=False)
    try:
        cycle = await rt.bot.run_cycle("test")
        ml = (await rt.backend.stats_report()).ml
        scores = [r.ml_score for r in rt.bot.recommendations.values()]
        print(json.dumps({"status": ml.status, "gating": ml.gating, "ideas": cycle.recommendations, "scores": scores}))
    finally:
        await rt.close()

asyncio.run(main())
"""


def test_without_the_extra_the_gate_is_off_and_the_console_says_why(tmp_path: Path) -> None:
    _pretrained(tmp_path)  # a model is there, but cannot be used without scikit-learn
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT_SKLEARN, str(tmp_path / "bot.db")],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=root,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["status"] == (
        "learned score off: the ml extra is not installed (pip install 'tui-bot[ml]'; sklearn is missing)"
    )
    assert seen["gating"] is False and seen["ideas"] >= 1
    assert seen["scores"] and all(score is None for score in seen["scores"])
