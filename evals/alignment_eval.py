"""How well swapengine.voice.alignment puts a TTS reading's phonemes onto a recording of the same words.

No recording in the shared media comes with a transcript, so the "recordings" are Piper lines whose
phoneme timings are known: synthesised afresh (Piper's durations differ run to run), moved towards a
template speaker's voice (voice.convert_towards: another pitch, timbre and room) and fitted to a slot
20% shorter or longer (voice.fit_to_slot, timings scaled with it). A separate Piper reading of the same
text is aligned onto each, and every phoneme's middle is compared with the truth. Every reading is also
aligned onto the recordings of the other texts, which must be refused.

Run: python -m evals.alignment_eval (writes its section of docs/QUALITY.md).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np

from evals.dialogue_eval import machine, pick_slot, replace_section
from swapengine.voice import alignment, slots, speech
from swapengine.voice.slots import SlotLine
from swapengine.voice.tts import PiperVoice, Speech, convert_towards, fit_to_slot

TEXTS = ("Happy Diwali, Priya!", "Order from Sharma Sweets", "Mumbai Bakery", "Welcome to Pune, Rahul",
         "Bablu's birthday bash")
TEMPLATES = ("t03_retalk_face1.mp4", "t01_sadtalker_aoc.mp4", "t07_retalk_face5.mp4")
SECTION = "## Dialogue replacement: phoneme timings for a recording"
SR = slots.SR
MARKS = frozenset("ˈˌː ")


def middles(phonemes: list[tuple[str, float, float]]) -> np.ndarray:
    return np.array([(a + b) / 2 for p, a, b in phonemes if p not in MARKS])


def recordings(voice: PiperVoice, media: Path) -> list[tuple[str, str, Speech]]:
    """(text, voice label, recording with true timings) for every text, speaker and speed."""
    out = []
    for name in TEMPLATES:
        clip = media / "templates" / name
        if not clip.is_file():
            continue
        mono = speech.load_audio(clip, SR)
        reference = slots.reference_voice(mono, SR, [SlotLine(*pick_slot(mono, len(mono) / SR), "")], None)
        for text in TEXTS:
            converted = convert_towards(voice.synthesise(text), reference, SR)
            for speed in (0.8, 1.2):
                out.append((text, f"{clip.stem} x{speed}", fit_to_slot(converted, converted.duration * speed)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "media")
    parser.add_argument("--quality", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "QUALITY.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if not (args.media / "templates").is_dir():
        print(f"no templates under {args.media}: this evaluation needs the shared real media", file=sys.stderr)
        return 2
    started = time.monotonic()
    voice = PiperVoice()
    made = recordings(voice, args.media)
    readings = {text: voice.synthesise(text) for text in TEXTS}
    errors: list[float] = []
    refused, wrong_accepted, wrong_total, seconds = 0, 0, 0, []
    for text, _, recording in made:
        for other, reading in readings.items():
            t = time.monotonic()
            got = alignment.align(reading, recording.samples, recording.sr)
            seconds.append(time.monotonic() - t)
            if other != text:
                wrong_total += 1
                wrong_accepted += got is not None
            elif got is None:
                refused += 1
            else:
                assert recording.phonemes is not None
                errors.extend(np.abs(middles(got) - middles(recording.phonemes)) * 1000)
    total = time.monotonic() - started
    err = np.asarray(errors)
    lines = [
        SECTION, "",
        f"Measured {datetime.date.today().isoformat()} on {machine()} "
            f"by `python -m evals.alignment_eval` ({total:.0f} s); how the recordings "
        f"are made is in the module's docstring: {len(TEXTS)} texts x {len(made) // (2 * len(TEXTS))} voices "
        f"x 2 speeds, each aligned with a reading of its own text and of the {len(TEXTS) - 1} others. A refused "
        "alignment leaves the recording's lips to the lip model, as before timings were aligned.", "",
        "| measure | value |", "|---|---|",
        f"| same words aligned | {len(made) - refused}/{len(made)} (refused {refused}) |",
        f"| phoneme middle error, median | {np.median(err):.0f} ms |" if err.size else "| error | - |",
        f"| phoneme middle error, 90th percentile | {np.percentile(err, 90):.0f} ms |" if err.size else "",
        f"| share within one 25 fps frame (40 ms) | {np.mean(err <= 40):.0%} |" if err.size else "",
        f"| other words wrongly accepted | {wrong_accepted}/{wrong_total} |",
        f"| time per alignment (median) | {1000 * np.median(seconds):.0f} ms |", "",
    ]
    print("\n".join(lines))
    if not args.no_write:
        replace_section(args.quality, SECTION, [line for line in lines if line is not None])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
