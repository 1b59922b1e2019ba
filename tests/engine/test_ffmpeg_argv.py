"""Every ffmpeg command line the engine runs, compared as lists (nothing is run), and the rule that only
swapengine.media.runner starts ffmpeg."""

from __future__ import annotations

import ast
from pathlib import Path

from swapengine.media import argv
from swapengine.media.argv import ffmpeg_exe
from swapengine.media.info import VideoInfo

ENGINE = Path(__file__).resolve().parents[2] / "swapengine"
FF = ffmpeg_exe()


def test_base_prefix() -> None:
    assert argv.base() == [FF, "-hide_banner", "-nostdin", "-loglevel", "error"]
    assert argv.base(overwrite=True) == [FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    assert argv.base(loglevel=None) == [FF, "-hide_banner", "-nostdin"]
    assert argv.base(loglevel=None, stats=False) == [FF, "-hide_banner", "-nostdin", "-nostats"]


def test_describe_argv() -> None:
    assert argv.describe_argv("/in/a b.mp4") == [FF, "-hide_banner", "-nostdin", "-i", "/in/a b.mp4"]


def test_version_argv_and_the_readiness_probe_it_serves() -> None:
    from swapengine import ffmpeg_version

    assert argv.version_argv() == [FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-version"]
    assert ffmpeg_version().startswith("ffmpeg version ")


def test_decode_and_count_share_input_and_filters() -> None:
    info = VideoInfo(720, 1280, 29.97, "30000/1001", 300, 10.01, True, 90, 1280, 721)
    assert argv.decode_argv(Path("/in/clip.mov"), info) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", "/in/clip.mov", "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", "fps=30000/1001,crop=720:1280:0:0", "-fps_mode", "cfr",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1",
    ]
    assert argv.count_argv("/in/clip.mov", info) == [
        FF, "-hide_banner", "-nostdin", "-nostats",
        "-i", "/in/clip.mov", "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", "fps=30000/1001,crop=720:1280:0:0", "-fps_mode", "cfr",
        "-f", "null", "-",
    ]


def test_encode_argv() -> None:
    info = VideoInfo(528, 432, 25.0, "25", 100, 4.0, True, 0, 528, 432)
    tags = {"comment": "AI-generated", "k": "v"}
    assert argv.encode_argv(Path("/out/r.mp4"), info, Path("/in/t.mp4"), tags) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "528x432", "-framerate", "25", "-i", "pipe:0",
        "-i", "/in/t.mp4", "-map", "0:v:0", "-map", "1:a:0?",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-r", "25",
        "-c:a", "aac", "-b:a", "128k", "-t", "4.000000",
        "-map_metadata", "-1", "-movflags", "+faststart+use_metadata_tags",
        "-metadata", "comment=AI-generated", "-metadata", "k=v",
        "-f", "mp4", "/out/r.mp4",
    ]
    assert argv.encode_argv("/out/r.mp4", info, None, None) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "528x432", "-framerate", "25", "-i", "pipe:0",
        "-map", "0:v:0",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-r", "25",
        "-map_metadata", "-1", "-movflags", "+faststart+use_metadata_tags",
        "-f", "mp4", "/out/r.mp4",
    ]


def test_audio_decode_argv() -> None:
    assert argv.decode_audio_argv("/in/c.mp4", 16000) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", "/in/c.mp4",
        "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1",
    ]
    assert argv.decode_audio_argv("/in/c.mp4", 44100, max_seconds=1.5, channels=2) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", "/in/c.mp4", "-t", "1.500",
        "-map", "0:a:0", "-vn", "-ac", "2", "-ar", "44100", "-f", "f32le", "pipe:1",
    ]


def test_extract_audio_argv() -> None:
    assert argv.extract_audio_argv("in.mp4", "out.wav", 16000) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", "in.mp4", "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000",
        "-c:a", "pcm_s16le", "-f", "wav", "out.wav",
    ]


def test_loudnorm_argv() -> None:
    assert argv.loudnorm_argv(48000) == [
        FF, "-hide_banner", "-nostdin", "-nostats",
        "-f", "f32le", "-ar", "48000", "-ac", "1", "-i", "pipe:0",
        "-af", "loudnorm=print_format=json", "-f", "null", "-",
    ]


def test_rubberband_argv() -> None:
    assert argv.rubberband_argv(16000, pitch=1.5) == [
        FF, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-f", "f32le", "-ar", "16000", "-ac", "1", "-i", "pipe:0",
        "-af", "rubberband=pitch=1.500000:tempo=1.000000:formant=preserved:pitchq=quality",
        "-f", "f32le", "-ar", "16000", "-ac", "1", "pipe:1",
    ]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_runner_starts_processes() -> None:
    """subprocess is imported by the runner, and by tts for espeak-ng (not ffmpeg); nowhere else."""
    users = {str(p.relative_to(ENGINE)) for p in ENGINE.rglob("*.py") if "subprocess" in _imports(p)}
    assert users == {"media/runner.py", "voice/tts.py"}
    namers = {str(p.relative_to(ENGINE)) for p in ENGINE.rglob("*.py") if "ffmpeg_exe" in p.read_text()}
    assert namers == {"media/argv.py", "media/__init__.py"}
