"""Progress as a plain callback: each stage owns a slice of 0..1, and only real changes are reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping

ProgressCallback = Callable[[str, float], None]
"""Called with (stage name, overall fraction 0..1). It may raise to stop the engine (e.g. Cancelled)."""


def _ignore(stage: str, fraction: float) -> None:
    return None


class Progress:
    """Maps per-stage fractions onto the overall 0..1 range and drops reports that change nothing.

    A report is passed on when the stage changes or the overall value moved by at least `step`.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        stages: Mapping[str, tuple[float, float]],
        step: float = 0.01,
    ) -> None:
        self._callback = callback or _ignore
        self._stages = dict(stages)
        self._step = step
        self._last_stage = ""
        self._last_value = -1.0

    def report(self, stage: str, fraction: float) -> None:
        lo, hi = self._stages[stage]
        value = lo + (hi - lo) * min(max(fraction, 0.0), 1.0)
        if stage != self._last_stage or value - self._last_value >= self._step or fraction >= 1.0:
            self._last_stage = stage
            self._last_value = value
            self._callback(stage, round(value, 4))
