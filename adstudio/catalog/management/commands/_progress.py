"""A terminal progress bar for the engine's (stage, fraction) callback."""

from __future__ import annotations

import sys

from tqdm import tqdm


class TerminalProgress:
    def __init__(self, label: str) -> None:
        self.bar = tqdm(total=100, desc=label, file=sys.stderr, unit="%", bar_format="{desc} {bar} {n_fmt}%")

    def __call__(self, stage: str, fraction: float) -> None:
        self.bar.set_description_str(stage)
        self.bar.n = int(fraction * 100)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()
