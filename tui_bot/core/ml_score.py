"""The learned score: each new idea's win probability from the newest model, the `min_ml_score` gate, and
retraining every `retrain_every` new outcomes in a worker thread (a cycle never waits for it).

Without the ml extra, with [ml] enabled = false, an unusable model file or too few outcomes, ideas carry no
score and the gate is off; `status` says why (the console shows it).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from tui_bot.core.features import from_json
from tui_bot.core.ml_report import MlReport, calibration
from tui_bot.core.ml_settings import MlSettings
from tui_bot.domain.recommendations import MlStamp, Proposal
from tui_bot.store.db import Database
from tui_bot.store.outcomes import LabelledOutcome, count_labelled, load_labelled

if TYPE_CHECKING:
    from tui_bot.core.ml_model import TrainedModel

log = logging.getLogger(__name__)
MISSING_EXTRA = "learned score off: the ml extra is not installed (pip install 'tui-bot[ml]'; {} is missing)"
OFF_IN_CONFIG = "learned score off: [ml] enabled = false"
EXTRA_MODULES = ("sklearn", "skops")


def missing_extra() -> str | None:
    """The first module of the ml extra that is not installed, or None (nothing is imported to find out)."""
    return next((name for name in EXTRA_MODULES if find_spec(name) is None), None)


def ml_model() -> ModuleType:
    """The model module (imports scikit-learn and skops: done only when a model is loaded or trained)."""
    return importlib.import_module("tui_bot.core.ml_model")


class MlScorer:
    """Scores ideas with the newest model and trains the next one when enough new outcomes have closed."""

    def __init__(self, conn: Database | None) -> None:
        self.conn = conn
        self.settings = MlSettings()
        self.folder: Path | None = None
        self.model: TrainedModel | None = None
        self.outcomes = 0
        """Labelled outcomes in the store when last counted."""
        self.status = "learned score off: not started"
        self._installed = False
        self._problem: str | None = None
        self._tried_at = -1
        """The outcome count of the last training tried (not tried again on the same outcomes)."""
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="ml-train")

    def configure(self, settings: MlSettings, data_dir: Path) -> None:
        """The [ml] settings, and the app's data folder the models go under."""
        self.settings = settings
        self.folder = settings.models_under(data_dir)

    async def start(self) -> None:
        """Import the extra, load the newest saved model (skops, trusted types only) and count the outcomes."""
        if not self.settings.enabled:
            self.status = OFF_IN_CONFIG
            return
        missing = missing_extra()
        if missing is not None:
            self.status = MISSING_EXTRA.format(missing)
            log.warning("%s", self.status)
            return
        self._installed = True
        if self.folder is not None and any(self.folder.glob("model-*.skops")):
            await self._load(self.folder)
        if self.conn is not None:
            self.outcomes = await count_labelled(self.conn)
        self._describe()

    async def _load(self, folder: Path) -> None:
        """The newest saved model of folder; one that cannot be used is named in the status (the gate is off)."""
        backend = await asyncio.to_thread(ml_model)
        try:
            self.model = await asyncio.to_thread(backend.load_newest, folder)
        except backend.ModelFileError as err:
            self._problem = str(err)
            log.warning("learned score: %s", err)

    async def stop(self) -> None:
        """Stop waiting for a training in progress (its thread finishes on its own)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def min_score(self) -> float | None:
        """The gate's minimum score, or None while the gate is off (no model, or min_ml_score 0)."""
        return self.settings.min_ml_score if self.model is not None and self.settings.min_ml_score > 0 else None

    def score(self, proposals: list[Proposal]) -> list[Proposal]:
        """The proposals, each with the model's win probability and the model's figures (unchanged without one)."""
        model = self.model
        recorded = [i for i, p in enumerate(proposals) if p.features]
        if model is None or not recorded:
            return proposals
        scores = model.probabilities([from_json(proposals[i].features) for i in recorded])
        scored = list(proposals)
        for i, score in zip(recorded, scores, strict=True):
            stamp = MlStamp(score, str(model.version), model.train_size, model.auc, model.brier)
            scored[i] = replace(proposals[i], ml=stamp)
        return scored

    def retrain_when_due(self) -> None:
        """Count the outcomes and train the next model when due, in the background (returns at once)."""
        if self._installed and self.conn is not None and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._retrain(self.conn), name="ml-retrain")

    async def wait(self) -> None:
        """Until the training started last (if any) has finished."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def _due(self) -> bool:
        model, s = self.model, self.settings
        if self.outcomes == self._tried_at:
            return False
        if model is None:
            return self.outcomes >= s.min_outcomes
        return self.outcomes - model.trained_on >= s.retrain_every

    async def _retrain(self, conn: Database) -> None:
        self.outcomes = await count_labelled(conn)
        if self._due():
            self._tried_at = self.outcomes
            outcomes = await load_labelled(conn)
            version = self.model.version + 1 if self.model is not None else 1
            loop = asyncio.get_running_loop()
            try:
                self.model = await loop.run_in_executor(self._executor, self._fit, outcomes, version)
                self._problem = None
                log.info("learned score: %s", self._model_text(self.model))
            except Exception as err:  # too few of one class, or a fit that failed: the old model stays
                self._problem = f"training failed: {err}"
                log.warning("learned score %s", self._problem)
        self._describe()

    def _fit(self, outcomes: list[LabelledOutcome], version: int) -> TrainedModel:
        """Train (and save) a model: runs in the worker thread."""
        backend = ml_model()
        model: TrainedModel = backend.train([(o.features, o.win) for o in outcomes], version, self.settings.holdout)
        if self.folder is not None:
            backend.save(model, self.folder, self.settings.keep_models)
        return model

    @staticmethod
    def _model_text(model: TrainedModel) -> str:
        auc = "n/a" if model.auc is None else f"{model.auc:.2f}"
        return f"model v{model.version} (trained on {model.train_size}, AUC {auc}, Brier {model.brier:.3f})"

    def _describe(self) -> None:
        """The status line: why the gate is off, or the model it gates with."""
        model, s = self.model, self.settings
        if model is None:
            why = self._problem or f"{self.outcomes} of {s.min_outcomes} outcomes needed to train (min_outcomes)"
            self.status = f"learned score off: {why}"
        elif s.min_ml_score > 0:
            self.status = f"ML gate on: {self._model_text(model)}; ideas below {s.min_ml_score:.2f} are rejected"
        else:
            self.status = f"ML score on, gate off (min_ml_score 0): {self._model_text(model)}"

    async def report(self) -> MlReport:
        """The status and the calibration of the scored ideas that have closed."""
        scored: list[tuple[float, bool]] = []
        if self.conn is not None:
            scored = [(o.ml_score, o.win) for o in await load_labelled(self.conn) if o.ml_score is not None]
        return MlReport(self.status, self.min_score() is not None, calibration(scored))
