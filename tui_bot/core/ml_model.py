"""The learned score's model (the ml extra: scikit-learn, skops): a calibrated logistic regression over the
recorded features, measured on the newest outcomes held out, saved and loaded with skops (never pickle)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tui_bot.core.features import FeatureValue, from_json

SUFFIX = ".skops"
TRUSTED_TYPES = frozenset(
    {"numpy.dtype", "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration"}
)
"""Types skops does not trust by default that our model files hold; a file with any other is refused."""
NOT_INPUTS = ("features_version", "strategy_version")
"""Recorded keys that are bookkeeping, not model inputs."""
FOLDS = 3
"""Cross-validation folds of the calibration (each class needs at least this many training outcomes)."""
ModelInput = dict[str, float | str]


class NotTrainable(ValueError):
    """The outcomes cannot train a model; the message says why in one line."""


class ModelFileError(ValueError):
    """A model file cannot be used (untrusted types, not ours, unreadable); the message names it."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """A fitted estimator with its version, training size and held-out metrics, and the outcome count it saw."""

    version: int
    estimator: Any
    train_size: int
    auc: float | None
    brier: float
    trained_on: int

    def probabilities(self, features: Sequence[Mapping[str, FeatureValue]]) -> list[float]:
        """The model's win probability for each recorded feature set."""
        if not features:
            return []
        rows = [model_input(f) for f in features]
        return [float(p) for p in self.estimator.predict_proba(rows)[:, 1]]


def model_input(features: Mapping[str, FeatureValue]) -> ModelInput:
    """Recorded features as the model reads them: numbers (null as NaN) and strings (one-hot), bookkeeping out."""
    return {k: math.nan if v is None else v for k, v in features.items() if k not in NOT_INPUTS}


def _estimator() -> CalibratedClassifierCV:
    logistic = make_pipeline(
        DictVectorizer(sparse=False),
        SimpleImputer(keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    return CalibratedClassifierCV(logistic, method="sigmoid", cv=FOLDS)  # stratified folds, in order: deterministic


def train(outcomes: Sequence[tuple[str, bool]], version: int, holdout: float) -> TrainedModel:
    """Fit on the older outcomes (features JSON, won), measure on the newest `holdout` share (oldest first)."""
    held = max(int(len(outcomes) * holdout), 1)
    rows = [model_input(from_json(text)) for text, _ in outcomes]
    labels = [int(won) for _, won in outcomes]
    fit_x, fit_y, test_x, test_y = rows[:-held], labels[:-held], rows[-held:], labels[-held:]
    wins = sum(fit_y)
    if min(wins, len(fit_y) - wins) < FOLDS:
        raise NotTrainable(f"{wins} wins and {len(fit_y) - wins} losses to train on; {FOLDS} of each needed")
    estimator = _estimator().fit(fit_x, fit_y)
    predicted = estimator.predict_proba(test_x)[:, 1]
    auc = float(roc_auc_score(test_y, predicted)) if 0 < sum(test_y) < len(test_y) else None
    brier = float(brier_score_loss(test_y, predicted, labels=[0, 1]))
    return TrainedModel(version, estimator, len(fit_y), auc, brier, len(outcomes))


def save(model: TrainedModel, folder: Path, keep: int) -> Path:
    """Write the model as folder/model-<version>.skops (atomically) and delete all but the newest keep files."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"model-{model.version:06d}{SUFFIX}"
    partial = path.with_suffix(".partial")
    sio.dump(
        {
            "estimator": model.estimator,
            "version": model.version,
            "train_size": model.train_size,
            "auc": model.auc,
            "brier": model.brier,
            "trained_on": model.trained_on,
        },
        partial,
    )
    os.replace(partial, path)
    for old in sorted(folder.glob(f"model-*{SUFFIX}"))[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load(path: Path) -> TrainedModel:
    """A saved model, after skops' check that every type it holds is trusted (ModelFileError otherwise)."""
    try:
        untrusted = sio.get_untrusted_types(file=path)
        refused = sorted(set(untrusted) - TRUSTED_TYPES)
        if refused:
            raise ModelFileError(f"model file {path.name} refused: it holds untrusted types {', '.join(refused)}")
        saved = sio.load(path, trusted=untrusted)
        return TrainedModel(
            int(saved["version"]),
            saved["estimator"],
            int(saved["train_size"]),
            saved["auc"],
            float(saved["brier"]),
            int(saved["trained_on"]),
        )
    except ModelFileError:
        raise
    except Exception as err:  # a file that is not one of ours, truncated, or from another skops
        raise ModelFileError(f"model file {path.name} cannot be read: {type(err).__name__}: {err}") from None


def load_newest(folder: Path) -> TrainedModel | None:
    """The newest saved model in folder (None when there is none)."""
    files = sorted(folder.glob(f"model-*{SUFFIX}")) if folder.is_dir() else []
    return load(files[-1]) if files else None
