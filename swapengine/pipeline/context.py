"""Per-job engine state: models are loaded lazily here, never in module globals, and freed by close()."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from swapengine.faces.detect import FaceAnalyzer
from swapengine.voice.tts import PiperVoice


class EngineContext:
    """One per job (a render, an analysis, a CLI run). Not thread-safe, like the models it owns."""

    def __init__(self, cache_root: Path | str) -> None:
        self.cache_root = Path(cache_root)
        self._analyzer: FaceAnalyzer | None = None
        self._voice: PiperVoice | None = None

    @property
    def analyzer(self) -> FaceAnalyzer:
        if self._analyzer is None:
            self._analyzer = FaceAnalyzer()
        return self._analyzer

    @property
    def voice(self) -> PiperVoice:
        """The English voice for dialogue lines (its ONNX model loads on the first line said)."""
        if self._voice is None:
            self._voice = PiperVoice()
        return self._voice

    def close(self) -> None:
        if self._analyzer is not None:
            self._analyzer.close()
            self._analyzer = None
        if self._voice is not None:
            self._voice.close()
            self._voice = None

    def __enter__(self) -> EngineContext:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
