"""The speaker's mouth bank kept beside the template analysis, so a render maps it instead of decoding.

Decoding the clip for the bank cost 1.2-4.3 s per 33 s template on every render; the patches depend only
on the template (its analysis directory is keyed by clip content and engine version) and on the bank's
own limits, which are stored with it. Layout of `<analysis dir>/mouthbank_<track>/`: `pixels.npy` (every
patch's bytes, concatenated, memory-mapped on load), `index.npz` (bank rows, patch shapes, patch maps and
the renderer's track geometry, whose Procrustes fits cost another 0.3 s), `bank.json` (format and limits).
Written aside and renamed into place: a reader never sees half a bank. A cache that is absent, corrupt or
made with other limits reads as None (with a log line): rebuild it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from swapengine.faces.analysis import TemplateAnalysis

log = logging.getLogger(__name__)
FORMAT = 1
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


@dataclass
class MouthBank:
    rows: np.ndarray  # (n,) rows of the track's arrays the patches were cut from
    patches: list[np.ndarray]  # (h, w, 3) uint8 each, read-only when loaded
    patch_maps: list[np.ndarray]  # (2, 3) each: canonical -> patch pixels
    geometry: dict[str, np.ndarray]  # what else the renderer derives from the whole track, kept with the bank


def bank_directory(analysis: TemplateAnalysis, track_id: int) -> Path:
    return Path(analysis.directory) / f"mouthbank_{int(track_id)}"


def save_bank(directory: Path, params: dict[str, Any], bank: MouthBank) -> bool:
    """Store the bank; False (logged) when the disk refuses, since the caller still has it in memory."""
    directory = Path(directory)
    shapes = np.array([p.shape for p in bank.patches], np.int64).reshape(len(bank.patches), 3)
    sizes = shapes.prod(axis=1)
    maps = np.array(bank.patch_maps, np.float64).reshape(len(bank.patch_maps), 2, 3)
    if len(bank.rows) != len(shapes) or len(maps) != len(shapes):
        raise ValueError(f"mouth bank of {len(bank.rows)} rows, {len(shapes)} patches, {len(maps)} maps")
    staging: Path | None = None
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        pixels = np.lib.format.open_memmap(staging / "pixels.npy", mode="w+", dtype=np.uint8,
                                           shape=(int(sizes.sum()),))
        start = 0
        for patch, size in zip(bank.patches, sizes, strict=True):
            pixels[start:start + size] = np.asarray(patch, np.uint8).reshape(-1)
            start += int(size)
        pixels.flush()
        del pixels
        np.savez(staging / "index.npz", rows=np.asarray(bank.rows, np.int64), shapes=shapes, maps=maps,
                 **{f"geometry_{k}": np.asarray(v) for k, v in bank.geometry.items()})
        meta = {"format": FORMAT, **params, "patches": len(shapes)}
        (staging / "bank.json").write_text(json.dumps(meta, indent=1))
        if directory.exists():
            shutil.rmtree(directory)
        try:
            os.rename(staging, directory)
        except OSError:
            if not (directory / "bank.json").exists():  # not a concurrent twin that won the race
                raise
        return True
    except OSError as exc:
        log.warning("mouth bank not cached in %s: %s", directory, exc)
        return False
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def load_bank(directory: Path, params: dict[str, Any], rows: np.ndarray,
              geometry: Sequence[str] = ()) -> MouthBank | None:
    """The stored bank if it was made with these limits for these rows and holds these geometry arrays;
    None (logged unless absent) if not."""
    directory = Path(directory)
    if not (directory / "bank.json").exists():
        return None
    try:
        bank = _read(directory, params, np.asarray(rows, np.int64), geometry)
    except _UNREADABLE as exc:
        log.warning("mouth bank cache %s is unreadable, rebuilding it: %s", directory, exc)
        return None
    if isinstance(bank, str):
        log.warning("mouth bank cache %s does not match, rebuilding it: %s", directory, bank)
        return None
    return bank


def _read(directory: Path, params: dict[str, Any], rows: np.ndarray, geometry: Sequence[str]) -> MouthBank | str:
    """The bank, or why it does not fit."""
    meta = json.loads((directory / "bank.json").read_text())
    wanted = {"format": FORMAT, **params}
    differ = {k: (meta.get(k), v) for k, v in wanted.items() if meta.get(k) != v}
    if differ:
        return f"stored/wanted {differ}"
    with np.load(directory / "index.npz") as index:
        stored_rows, shapes, maps = index["rows"], index["shapes"], index["maps"]
        arrays = {k: index[f"geometry_{k}"] for k in geometry}
    if not np.array_equal(stored_rows, rows):
        return f"bank rows differ ({len(stored_rows)} stored, {len(rows)} wanted)"
    n = len(rows)
    if shapes.shape != (n, 3) or maps.shape != (n, 2, 3) or (shapes < 0).any():
        raise ValueError(f"index of shapes {shapes.shape} and maps {maps.shape} for {n} patches")
    pixels = np.load(directory / "pixels.npy", mmap_mode="r")
    sizes = shapes.prod(axis=1)
    if pixels.dtype != np.uint8 or pixels.ndim != 1 or pixels.size != int(sizes.sum()):
        raise ValueError(f"pixels {pixels.dtype} {pixels.shape}, index wants {int(sizes.sum())} bytes")
    ends = np.cumsum(sizes)
    flat = np.asarray(pixels)  # a plain ndarray view of the mapping: no bytes are read until a patch is used
    patches = [flat[e - s:e].reshape(tuple(int(v) for v in shape)) for e, s, shape in zip(ends, sizes, shapes,
                                                                                         strict=True)]
    return MouthBank(stored_rows.astype(np.int64), patches, list(maps), arrays)
