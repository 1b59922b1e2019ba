"""Every ffmpeg command line the engine runs, as pure functions returning argv lists.

Nothing here starts a process (swapengine.media.runner does), so each builder is unit-tested by
comparing lists. All of them start from `base`, the one place that names the executable and its
global flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from swapengine.media.info import VideoInfo


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def base(*, loglevel: str | None = "error", stats: bool = True, overwrite: bool = False) -> list[str]:
    """`ffmpeg -hide_banner -nostdin` (stdin is for pipes, never for ffmpeg's keyboard commands).

    loglevel None keeps ffmpeg's report (probing and `frame=`/loudnorm parsing read it); stats False
    adds `-nostats` so the progress line does not flood a captured stderr.
    """
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin"]
    if not stats:
        argv.append("-nostats")
    if loglevel is not None:
        argv += ["-loglevel", loglevel]
    if overwrite:
        argv.append("-y")
    return argv


def version_argv() -> list[str]:
    """`ffmpeg -version`: proof that the binary runs, for the web's readiness check."""
    return base() + ["-version"]


def describe_argv(path: Path | str) -> list[str]:
    """`ffmpeg -i` alone: it exits 1 (no output given) after printing the input's report on stderr."""
    return base(loglevel=None) + ["-i", str(path)]


def video_filter(info: VideoInfo) -> str:
    # ffmpeg has already autorotated when this runs; crop (not scale) keeps pixels exact for odd sizes.
    # `-fps_mode cfr` beside it matters too: when the picture starts later than the sound, ffmpeg repeats
    # the first frame from the file's start, which keeps the template's audio in sync; the null muxer
    # used for counting would otherwise skip that padding and count fewer frames than the reader yields.
    return f"fps={info.fps_text},crop={info.width}:{info.height}:0:0"


def _video_input(path: Path | str, info: VideoInfo) -> list[str]:
    return ["-i", str(path), "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", video_filter(info), "-fps_mode", "cfr"]


def decode_argv(path: Path | str, info: VideoInfo) -> list[str]:
    """The clip's first video stream as raw BGR frames on stdout."""
    return base() + _video_input(path, info) + ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]


def count_argv(path: Path | str, info: VideoInfo) -> list[str]:
    """Same input and filters as decode_argv, into the null muxer: the count the reader will yield."""
    return base(loglevel=None, stats=False) + _video_input(path, info) + ["-f", "null", "-"]


def encode_argv(
    out_path: Path | str,
    info: VideoInfo,
    audio_source: Path | str | None,
    metadata: Mapping[str, str] | None,
) -> list[str]:
    """Raw BGR frames on stdin into libx264 MP4, with the audio of `audio_source` muxed when given."""
    argv = base(overwrite=True) + [
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{info.width}x{info.height}",
        "-framerate", info.fps_text, "-i", "pipe:0",
    ]
    if audio_source is not None:
        argv += ["-i", str(audio_source)]
    argv += ["-map", "0:v:0"]
    if audio_source is not None:
        argv += ["-map", "1:a:0?"]
    argv += [
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-r", info.fps_text,
    ]
    if audio_source is not None:
        # The template's sound may run past its last picture; the output keeps the video's length.
        argv += ["-c:a", "aac", "-b:a", "128k", "-t", f"{info.duration:.6f}"]
    argv += ["-map_metadata", "-1", "-movflags", "+faststart+use_metadata_tags"]
    for key, value in (metadata or {}).items():
        argv += ["-metadata", f"{key}={value}"]
    argv += ["-f", "mp4", str(out_path)]
    return argv


def decode_audio_argv(path: Path | str, sr: int, max_seconds: float | None = None, channels: int = 1) -> list[str]:
    """The first audio stream as float32 samples on stdout (`channels` interleaved)."""
    argv = base() + ["-i", str(path)]
    if max_seconds is not None:
        argv += ["-t", f"{max_seconds:.3f}"]
    return argv + ["-map", "0:a:0", "-vn", "-ac", str(channels), "-ar", str(sr), "-f", "f32le", "pipe:1"]


def extract_audio_argv(clip: Path | str, out_wav: Path | str, sr: int = 22050) -> list[str]:
    """The first audio stream as a mono 16-bit WAV file."""
    return base(overwrite=True) + [
        "-i", str(clip), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(sr),
        "-c:a", "pcm_s16le", "-f", "wav", str(out_wav),
    ]


def _raw_mono_in(sr: int) -> list[str]:
    return ["-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0"]


def loudnorm_argv(sr: int) -> list[str]:
    """Raw float32 mono on stdin through loudnorm's analysis; the JSON report is on stderr."""
    return base(loglevel=None, stats=False) + _raw_mono_in(sr) + [
        "-af", "loudnorm=print_format=json", "-f", "null", "-",
    ]


def rubberband_argv(sr: int, pitch: float = 1.0, tempo: float = 1.0) -> list[str]:
    """Raw float32 mono through ffmpeg's rubberband: pitch keeps the formants, tempo keeps the pitch."""
    effect = f"rubberband=pitch={pitch:.6f}:tempo={tempo:.6f}:formant=preserved:pitchq=quality"
    return base() + _raw_mono_in(sr) + ["-af", effect, "-f", "f32le", "-ar", str(sr), "-ac", "1", "pipe:1"]
