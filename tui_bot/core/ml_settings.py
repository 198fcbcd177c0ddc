"""The [ml] settings: the learned score's gate, how often it retrains, and where its models are kept."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

MODELS_DIR = "models"
"""Where models go when model_dir is not set: this folder beside the database."""


class MlSettings(BaseModel):
    """A calibrated classifier over the recorded features, trained on outcomes (needs the ml extra)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_ml_score: float = Field(0.0, ge=0, le=1)
    """Ideas the model scores below this are rejected (still followed as phantoms); 0 scores without gating."""
    retrain_every: int = Field(50, ge=1, le=1_000_000)
    """New outcomes (trades and phantoms that reached their target or stop) between two trainings."""
    min_outcomes: int = Field(100, ge=10, le=1_000_000)
    """Outcomes needed before the first model is trained; until then the gate is off."""
    holdout: float = Field(0.25, ge=0.1, le=0.5)
    """The newest share of outcomes held out of training to measure the model (AUC, Brier)."""
    keep_models: int = Field(5, ge=1, le=1000)
    """Model files kept; older ones are deleted after each training."""
    model_dir: Path | None = None

    def models_under(self, data_dir: Path) -> Path:
        """The folder models are saved in: model_dir (relative to data_dir), else data_dir/models."""
        return data_dir / (self.model_dir or MODELS_DIR)
