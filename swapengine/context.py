"""Per-job engine state: models are loaded lazily here, never in module globals, and freed by close()."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from swapengine.faces import FaceAnalyzer


class EngineContext:
    """One per job (a render, an analysis, a CLI run). Not thread-safe, like the models it owns."""

    def __init__(self, cache_root: Path | str) -> None:
        self.cache_root = Path(cache_root)
        self._analyzer: FaceAnalyzer | None = None

    @property
    def analyzer(self) -> FaceAnalyzer:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer()
        return self._analyzer

    def close(self) -> None:
        if self._analyzer is not None:
            self._analyzer.close()
            self._analyzer = None

    def __enter__(self) -> EngineContext:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
