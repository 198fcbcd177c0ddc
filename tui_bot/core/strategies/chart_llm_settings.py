"""The [chart_llm] settings: where the vision model is served, which model, and the caps on time and requests."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

CHARTS_DIR = "charts"
"""Where chart images go when chart_dir is not set: this folder beside the database."""


class ChartLlmSettings(BaseModel):
    """An OpenAI-compatible chat-completions server (Ollama, vLLM, a hosted API) and the limits of one cycle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field("http://127.0.0.1:11434/v1", min_length=1)
    model: str = Field("qwen2.5vl:7b", min_length=1)
    api_key_env: str = Field("", pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$")
    """Name of the environment variable holding the API key (empty: the server needs none, as Ollama)."""
    request_timeout_s: float = Field(20, gt=0, le=600)
    deadline_s: float = Field(20, gt=0, le=600)
    """The cycle waits at most this long for all chart_llm replies; a symbol not answered by then holds."""
    concurrency: int = Field(4, ge=1, le=64)
    max_requests_per_cycle: int = Field(20, ge=0, le=10_000)
    candles: int = Field(100, ge=20, le=1000)
    """Bars drawn on each chart (the newest ones)."""
    ema_periods: list[int] = Field(default_factory=lambda: [9, 21], max_length=4)
    max_entry_gap_pct: float = Field(1.0, gt=0, le=50)
    """A reply's entry may lie at most this far (percent) from the last close."""
    max_tokens: int = Field(400, ge=50, le=8000)
    temperature: float = Field(0.0, ge=0, le=2)
    keep_charts: int = Field(500, ge=1, le=100_000)
    """Chart images kept on disk; older ones are deleted after each cycle."""
    chart_dir: Path | None = None

    @field_validator("ema_periods")
    @classmethod
    def _periods(cls, periods: list[int]) -> list[int]:
        if any(p < 2 or p > 500 for p in periods):
            raise ValueError("each EMA period must be between 2 and 500")
        return periods

    def charts_under(self, data_dir: Path) -> Path:
        """The folder chart images are written to: chart_dir (relative to data_dir), else data_dir/charts."""
        return data_dir / (self.chart_dir or CHARTS_DIR)
