"""The voice-bank quality report in words: one row per measure, for a recording and for the whole bank.

The numbers come from the engine's report (swapengine.VoiceBankReport.as_dict) as stored on each recording;
what is wrong with them is the report's own `problems`, shown as they are, so no threshold is repeated here.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Row(NamedTuple):
    key: str  # the report's key, for the page's data attributes and the tests
    label: str
    value: str


def minutes(seconds: float) -> str:
    """`45.2 s` under a minute, `3 min 05 s` above."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    return f"{whole // 60} min {whole % 60:02d} s"


def _number(report: dict[str, Any], key: str) -> float | None:
    value = report.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _rows(report: dict[str, Any], length_key: str, length_label: str) -> list[Row]:
    rows = []
    length, speech = _number(report, length_key), _number(report, "speech_s")
    if length is not None:
        rows.append(Row(length_key, length_label, minutes(length)))
    if speech is not None:
        share = f" ({speech / length:.0%} of it)" if length else ""
        rows.append(Row("speech_s", "Speech", minutes(speech) + share))
    if (noise := _number(report, "noise_floor_db")) is not None:
        rows.append(Row("noise_floor_db", "Noise", f"{noise:.0f} dB below the voice"))
    if (reverb := _number(report, "reverb_s")) is not None:
        rows.append(Row("reverb_s", "Reverb", f"{reverb:.2f} s decay" if reverb else "none measured"))
    if (clipped := _number(report, "clipped_share")) is not None:
        rows.append(Row("clipped_share", "Clipping", f"{clipped:.2%} of samples"))
    if "loudness_lufs" in report:
        lufs = _number(report, "loudness_lufs")
        rows.append(Row("loudness_lufs", "Loudness", f"{lufs:.1f} LUFS" if lufs is not None else "not measured"))
    if (coverage := _number(report, "phone_coverage")) is not None:
        missing = [str(p) for p in report.get("phones_missing") or []]
        text = f"{coverage:.0%} of English speech sounds"
        rows.append(Row("phone_coverage", "Phoneme coverage", text + (f" (missing: {' '.join(missing)})"
                                                                      if missing else "")))
    return rows


def report_rows(report: dict[str, Any]) -> list[Row]:
    """One analysed recording's measures."""
    rows = _rows(report, "duration_s", "Length")
    if "usable" in report:
        rows.append(Row("usable", "Used for the voice", "yes" if report["usable"] else "no: see the problems"))
    return rows


def total_rows(totals: dict[str, Any]) -> list[Row]:
    """The bank's measures over its usable recordings (VoiceBank.totals)."""
    rows = [Row("recordings", "Usable recordings", str(totals.get("recordings", 0)))]
    return rows + _rows(totals, "duration_s", "Length") if totals.get("recordings") else rows
