"""A celebrity's voice bank: the quality report of one uploaded recording, before it is used.

The line converter (swapengine.voice.knnvc) builds the celebrity's voice out of their own frames, so
whatever is in those frames (hiss, a room's echo, clipping) comes out in the line. The report says
what an admin can act on: how much speech there is, how far the noise sits below it, how long the
room rings, how much is clipped, how loud it is and how many English speech sounds it covers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from swapengine.errors import BadInput, EngineError
from swapengine.media.audio import load_audio
from swapengine.voice.speech import loudness_lufs, speech_regions

SR = 16000  # what the VAD and the phone decoder take
CLIP_SR = 48000  # clipping is counted near the source's own rate: resampling rounds a clipped top off
MIN_SECONDS = 1.0
MIN_SPEECH_S = 0.5
MAX_DECODE_S = 600.0  # phone coverage is read from the first ten minutes of speech
# The CMU/ARPAbet phone set of pocketsphinx's en-US model (no silence or noise units).
PHONES = ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY",
          "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y",
          "Z", "ZH")
ENOUGH_SPEECH_S = 30.0
GOOD_SPEECH_S = 120.0
MIN_NOISE_DB = 25.0
MAX_REVERB_S = 0.5
MAX_CLIPPED = 0.001
QUIET_LUFS = -35.0
MIN_COVERAGE = 0.7


@dataclass
class VoiceBankReport:
    """What one recording brings to a voice bank and what is wrong with it (`problems`, plain English)."""

    duration_s: float
    speech_s: float  # voice activity (webrtcvad) in the whole recording
    noise_floor_db: float  # how far the level between words sits below the speech (higher is cleaner)
    reverb_s: float  # an RT60-like decay time read from the fastest level drops after words
    clipped_share: float  # share of samples at full scale
    loudness_lufs: float | None  # integrated EBU R128 loudness
    phone_coverage: float  # share of the 39 English phones the phone decoder heard
    phones_missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether the converter should use it at all (a warning-level problem still leaves it usable)."""
        return self.speech_s >= MIN_SPEECH_S and self.clipped_share < 0.02 and self.noise_floor_db >= 10.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (floats rounded), for storing beside the upload."""
        out: dict[str, object] = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 4)
        out["usable"] = self.usable
        return out


def _decode(path: Path, sr: int) -> np.ndarray:
    try:
        return load_audio(path, sr)
    except BadInput:
        raise BadInput("This recording has no sound track.", code="voice_recording_no_audio") from None
    except EngineError:
        raise BadInput("This file cannot be read as audio: please upload a WAV, MP3, M4A or FLAC recording.",
                       code="voice_recording_unreadable") from None


def voiced_frames(samples: np.ndarray, aggressiveness: int = 2, frame_ms: int = 30) -> np.ndarray:
    """Speech per `frame_ms` frame of 16 kHz mono samples: webrtcvad's decision, inside the spans
    speech.speech_regions finds (webrtcvad alone calls a steady hum or hiss speech; the level ranges of
    speech_regions do not)."""
    import webrtcvad

    vad = webrtcvad.Vad(aggressiveness)
    n = SR * frame_ms // 1000
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    count = len(pcm) // n
    said = np.array([vad.is_speech(pcm[i * n:(i + 1) * n].tobytes(), SR) for i in range(count)], bool)
    inside = np.zeros(count, bool)
    for start, end in speech_regions(samples, SR):
        inside[int(start * 1000 / frame_ms):int(np.ceil(end * 1000 / frame_ms))] = True
    return said & inside


def _frame_db(samples: np.ndarray, n: int) -> np.ndarray:
    count = len(samples) // n
    frames = samples[:count * n].reshape(count, n).astype(np.float64)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)


def noise_floor_db(samples: np.ndarray, voiced: np.ndarray, frame_ms: int = 30) -> float:
    """Speech level (median of voiced frames) minus the noise level (10th percentile of all frames)."""
    level = _frame_db(samples, SR * frame_ms // 1000)[:len(voiced)]
    speech = level[voiced] if voiced.any() else level
    return float(np.median(speech) - np.percentile(level, 10))


def _falls(level: np.ndarray, width: int, min_drop: float, floor: float) -> np.ndarray:
    """Decay rates (dB/s, negative) of every `width`-frame stretch that falls steadily by `min_drop` dB."""
    if len(level) <= width:
        return np.zeros(0)
    windows = np.lib.stride_tricks.sliding_window_view(level, width)
    t = np.arange(width) * 0.01
    t = t - t.mean()
    centred = windows - windows.mean(axis=1, keepdims=True)
    slopes = centred @ t / float(t @ t)
    residual = centred - slopes[:, None] * t[None, :]
    straight = np.sqrt(np.mean(residual ** 2, axis=1)) < 2.0  # a steady fall, not a dip and a rise
    drop = windows[:, 0] - windows[:, -1]
    above_floor = windows[:, -1] > floor + 3.0  # still falling, not sitting on the floor
    return slopes[(drop >= min_drop) & straight & above_floor & (slopes < 0)]


def reverb_seconds(samples: np.ndarray, sr: int = SR) -> float:
    """An RT60-like decay time: 60 dB over the steepest steady fall of the level at word ends.

    Speech stops abruptly; what the level does after that is the room's decay. On 10 ms level frames,
    every 80 ms stretch falling steadily by 15 dB and every 250 ms stretch falling by 10 dB gives a
    decay rate; the fastest rates (10th percentile) are the ones the room, not the talker, limited.
    Dry speech reads 0.1-0.3 s; a tiled room or a hall 0.6 s and more. 0 when no fall is found.
    """
    level = _frame_db(samples, sr // 100)
    if level.size == 0:
        return 0.0
    floor = float(np.percentile(level, 5))
    falls = np.concatenate([_falls(level, 8, 15.0, floor), _falls(level, 25, 10.0, floor)])
    if falls.size < 3:
        return 0.0
    return float(60.0 / -np.percentile(falls, 10))


def clipped_share(samples: np.ndarray) -> float:
    """Share of samples at or above 0.99 of full scale."""
    return float(np.mean(np.abs(samples) >= 0.99)) if samples.size else 0.0


def heard_phones(samples: np.ndarray) -> set[str]:
    """The phones pocketsphinx's en-US all-phone decoder (its model ships inside the wheel) hears."""
    from pocketsphinx import Decoder, get_model_path

    decoder = Decoder(lm=None, samprate=SR, loglevel="FATAL")
    decoder.add_allphone_file("phones", get_model_path("en-us/en-us-phone.lm.bin"))
    decoder.activate_search("phones")
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    x = samples * (0.9 / peak) if peak > 0 else samples
    decoder.start_utt()
    decoder.process_raw((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return {p for p in (hyp.hypstr.split() if hyp is not None else []) if p in PHONES}


def _speech_only(samples: np.ndarray, voiced: np.ndarray, frame_ms: int = 30) -> np.ndarray:
    n = SR * frame_ms // 1000
    keep = np.repeat(voiced, n)
    return samples[:len(keep)][keep]


def problems_of(report: VoiceBankReport) -> list[str]:
    """Plain-English lines an admin can act on, worst first."""
    out = []
    if report.clipped_share >= MAX_CLIPPED:
        out.append(f"{report.clipped_share:.1%} of the recording is clipped (distorted at full volume): "
                   "record it again with the input level lower.")
    if report.noise_floor_db < MIN_NOISE_DB:
        out.append(f"Background noise is only {report.noise_floor_db:.0f} dB below the voice (we need "
                   f"{MIN_NOISE_DB:.0f} dB or more): use a quieter room or a closer microphone.")
    if report.reverb_s > MAX_REVERB_S:
        out.append(f"The room echoes (a decay of about {report.reverb_s:.1f} s): record in a furnished "
                   "room or closer to the microphone.")
    if report.loudness_lufs is not None and report.loudness_lufs < QUIET_LUFS:
        out.append(f"The recording is very quiet ({report.loudness_lufs:.0f} LUFS): raise the input level.")
    if report.speech_s < ENOUGH_SPEECH_S:
        out.append(f"Only {report.speech_s:.0f} s of speech: upload at least {ENOUGH_SPEECH_S:.0f} s "
                   f"({GOOD_SPEECH_S / 60:.0f} minutes or more sounds better).")
    if report.phone_coverage < MIN_COVERAGE:
        out.append(f"It covers only {round(report.phone_coverage * len(PHONES))} of the {len(PHONES)} English "
                   "speech sounds: add recordings of varied sentences (reading a paragraph aloud works).")
    return out


def assess_voice_recording(path: Path) -> VoiceBankReport:
    """The quality report of one recording a celebrity's voice bank would use (any audio ffmpeg reads).

    Raises BadInput when it cannot be read, has no sound, is shorter than a second or holds no speech.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput("The recording file is missing.", code="voice_recording_missing")
    samples = _decode(path, SR)
    duration = len(samples) / SR
    if duration < MIN_SECONDS:
        raise BadInput(f"This recording is too short ({duration:.1f} s): a voice bank needs at least "
                       f"{ENOUGH_SPEECH_S:.0f} s of speech.", code="voice_recording_too_short")
    if float(np.max(np.abs(samples))) < 1e-3:
        raise BadInput("This recording is silent.", code="voice_recording_silent")
    voiced = voiced_frames(samples)
    speech_s = float(voiced.sum()) * 0.03
    if speech_s < MIN_SPEECH_S:
        raise BadInput("No speech was found in this recording.", code="voice_recording_no_speech")
    speech = _speech_only(samples, voiced)
    phones = heard_phones(speech[:int(MAX_DECODE_S * SR)])
    report = VoiceBankReport(
        duration_s=duration, speech_s=speech_s, noise_floor_db=noise_floor_db(samples, voiced),
        reverb_s=reverb_seconds(samples), clipped_share=clipped_share(_decode(path, CLIP_SR)),
        loudness_lufs=loudness_lufs(speech, SR), phone_coverage=len(phones) / len(PHONES),
        phones_missing=[p for p in PHONES if p not in phones])
    report.problems = problems_of(report)
    return report
