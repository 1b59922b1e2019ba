"""The admin's speech timeline: the clip's waveform, detected speech and the dialogue slots, as inline SVG."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, WAVE_H, AXIS_H = 900, 80, 18


def _x(seconds: float, duration: float) -> float:
    return round(WIDTH * min(max(seconds, 0.0), duration) / duration, 1)


def timeline_svg(
    peaks: Sequence[float], regions: Sequence[Sequence[float]], slots: Sequence[tuple[float, float, str]],
    duration: float,
) -> SafeString:
    """Speech regions shaded green, slots outlined orange with their line as a tooltip, a tick per second."""
    if duration <= 0:
        return format_html("<p>{}</p>", "No sound track.")
    top = max(max(peaks, default=0.0), 1e-6)
    mid = WAVE_H / 2
    step = WIDTH / max(len(peaks), 1)
    bars = format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="#555"/>',
        ((round(i * step, 1), round(mid - mid * p / top, 1), max(round(step - 0.3, 1), 0.5),
          max(round(2 * mid * p / top, 1), 0.5)) for i, p in enumerate(peaks)),
    )
    speech = format_html_join(
        "", '<rect x="{}" y="0" width="{}" height="{}" fill="#2e7d32" fill-opacity="0.25">'
        "<title>speech {}-{} s</title></rect>",
        ((_x(a, duration), max(_x(b, duration) - _x(a, duration), 1), WAVE_H, a, b) for a, b in regions),
    )
    slot_marks = format_html_join(
        "", '<rect x="{}" y="1" width="{}" height="{}" fill="none" stroke="#e65100" stroke-width="2">'
        "<title>slot {}-{} s: {}</title></rect>",
        ((_x(a, duration), max(_x(b, duration) - _x(a, duration), 1), WAVE_H - 2, a, b, line)
         for a, b, line in slots),
    )
    ticks = format_html_join(
        "", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
        '<text x="{}" y="{}" font-size="11" fill="#444">{}</text>',
        ((_x(s, duration), WAVE_H, _x(s, duration), WAVE_H + 5, _x(s, duration) + 2, WAVE_H + AXIS_H - 3, s)
         for s in range(int(duration) + 1)),
    )
    return format_html(
        '<svg class="speech-timeline" role="img" aria-label="Waveform with speech regions and dialogue slots" '
        'data-duration="{}" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px;background:#fafafa;border:1px solid #ddd;cursor:crosshair;touch-action:none">'
        "{}{}{}{}</svg>"
        '<p class="help" id="timeline-help" aria-live="polite">Drag across the waveform to place a new dialogue '
        "slot there (or type its start and end below).</p>",
        duration, WIDTH, WAVE_H + AXIS_H, WIDTH, bars, speech, slot_marks, ticks,
    )


def regions_text(regions: Sequence[Sequence[float]]) -> str:
    if not regions:
        return "No speech detected."
    return "Speech at " + ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in regions)
