"""media: probing awkward uploads, streaming frames through ffmpeg pipes, and the encoded MP4's shape."""

from __future__ import annotations

import dataclasses
import re
import struct
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput, FFmpegError
from swapengine.media.info import exact_rate


def ff(*args: str) -> None:
    proc = subprocess.run(
        [media.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], capture_output=True
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def clips(carphone_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Edge-case uploads, made from carphone (176x144, 29.97 fps, 120 frames)."""
    d = tmp_path_factory.mktemp("edge")
    src = str(carphone_clip)
    x264 = ["-c:v", "libx264", "-preset", "ultrafast"]
    ff("-display_rotation", "90", "-i", src, "-c", "copy", str(d / "rotated.mp4"))
    ff("-i", src, "-vf", "scale=177:145", *x264, "-pix_fmt", "yuv444p", str(d / "odd.mp4"))
    # first 60 frames at 30 fps, the rest at 15 fps: 2 s + 4 s
    ff("-i", src, "-vf", "setpts='if(lt(N,60),N,60+(N-60)*2)/(30*TB)'", "-fps_mode", "vfr", *x264,
       str(d / "vfr.mp4"))
    # the picture starts 0.5 s after the sound, as in phone and web clips whose edit lists were trimmed
    ff("-itsoffset", "0.5", "-i", src, "-f", "lavfi", "-i", "sine=frequency=440:duration=4.5",
       "-map", "0:v", "-map", "1:a", *x264, "-c:a", "aac", str(d / "late_video.mp4"))
    ff("-i", src, "-frames:v", "1", "-f", "image2", str(d / "picture.png"))
    (d / "picture.mp4").write_bytes((d / "picture.png").read_bytes())
    (d / "notes.mp4").write_text("these are my holiday notes, not a video\n")
    (d / "empty.mp4").write_bytes(b"")
    ff("-i", src, "-c", "copy", "-movflags", "+faststart", str(d / "faststart.mp4"))
    data = (d / "faststart.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(data[: len(data) // 3])
    ff("-i", src, "-c", "copy", str(d / "moov_last.mp4"))
    data = (d / "moov_last.mp4").read_bytes()
    (d / "cut_before_moov.mp4").write_bytes(data[: len(data) // 2])
    return {p.stem: p for p in d.iterdir()}


def read_all(path: Path, info: media.VideoInfo) -> tuple[int, set[tuple[int, ...]]]:
    shapes: set[tuple[int, ...]] = set()
    count = 0
    with media.FrameReader(path, info) as reader:
        for frame in reader:
            shapes.add(frame.shape)
            count += 1
    return count, shapes


def top_level_atoms(path: Path) -> list[str]:
    data = path.read_bytes()
    atoms, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        atoms.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return atoms


@pytest.mark.parametrize("fps,text", [(29.97, "30000/1001"), (23.98, "24000/1001"), (59.94, "60000/1001"),
                                      (25.0, "25"), (30.0, "30"), (12.5, "25/2")])
def test_exact_rate(fps: float, text: str) -> None:
    assert exact_rate(fps) == text


def test_probe_plain_clip(carphone_clip: Path) -> None:
    info = media.probe(carphone_clip)
    assert (info.width, info.height, info.frame_count, info.rotation) == (176, 144, 120, 0)
    assert info.fps_text == "30000/1001" and not info.has_audio
    assert info.duration == pytest.approx(120 * 1001 / 30000)
    assert read_all(carphone_clip, info) == (120, {(144, 176, 3)})


def test_probe_sees_audio(talking_clip: Path) -> None:
    info = media.probe(talking_clip)
    assert info.has_audio and (info.width, info.height, info.frame_count) == (528, 432, 120)


def test_rotation_metadata_is_applied(clips: dict[str, Path], carphone_clip: Path) -> None:
    info = media.probe(clips["rotated"])
    assert (info.rotation, info.width, info.height) == (90, 144, 176)
    assert (info.source_width, info.source_height) == (176, 144)
    assert read_all(clips["rotated"], info) == (120, {(176, 144, 3)})
    with media.FrameReader(carphone_clip, media.probe(carphone_clip)) as r:
        upright = next(iter(r)).copy()
    with media.FrameReader(clips["rotated"], info) as r:
        turned = next(iter(r)).copy()
    # displaymatrix +90 means "turn counter-clockwise to display", which is numpy's rot90(k=1)
    assert np.abs(np.rot90(upright, 1).astype(int) - turned).mean() < 1.0


def test_odd_dimensions_become_even(clips: dict[str, Path]) -> None:
    info = media.probe(clips["odd"])
    assert (info.source_width, info.source_height) == (177, 145)
    assert (info.width, info.height) == (176, 144)
    assert read_all(clips["odd"], info) == (info.frame_count, {(144, 176, 3)})


def test_variable_frame_rate_is_normalised(clips: dict[str, Path]) -> None:
    average = re.search(r"(\d+(?:\.\d+)?) fps", media.describe(clips["vfr"]))
    assert average and float(average.group(1)) < 25, "the fixture is not variable-rate"
    info = media.probe(clips["vfr"])
    assert info.fps == pytest.approx(30, abs=0.05)
    # 60 frames at 30 fps then 60 frames held twice as long: about 6 s of constant 30 fps
    assert 175 <= info.frame_count <= 182
    assert read_all(clips["vfr"], info) == (info.frame_count, {(144, 176, 3)})


def test_late_picture_is_padded_so_sound_stays_in_sync(clips: dict[str, Path]) -> None:
    info = media.probe(clips["late_video"])
    assert info.has_audio
    # 0.5 s of the first picture repeated (15 frames at 29.97 fps) before carphone's 120 frames
    assert 133 <= info.frame_count <= 137
    assert read_all(clips["late_video"], info) == (info.frame_count, {(144, 176, 3)})


@pytest.mark.parametrize("name,words", [
    ("notes", "could not read"), ("picture", "still picture"), ("empty", "empty"),
    ("truncated", "damaged or incomplete"), ("cut_before_moov", "could not read"),
])
def test_unusable_uploads_are_bad_input(clips: dict[str, Path], name: str, words: str) -> None:
    with pytest.raises(BadInput) as caught:
        media.probe(clips[name])
    assert caught.value.code == "not_video"
    assert words in caught.value.user_message


def test_reader_that_ends_early_raises(carphone_clip: Path) -> None:
    info = dataclasses.replace(media.probe(carphone_clip), frame_count=125)
    with pytest.raises(FFmpegError, match="read 120 of 125"):
        read_all(carphone_clip, info)


def test_round_trip_keeps_length_audio_and_tags(talking_clip: Path, tmp_path: Path) -> None:
    info = media.probe(talking_clip)
    out = tmp_path / "result.mp4"
    with media.FrameReader(talking_clip, info) as reader, media.FrameWriter(
        out, info, audio_source=talking_clip, metadata={"comment": "round trip"}
    ) as writer:
        for frame in reader:
            writer.write(frame)
    assert writer.frames == info.frame_count
    again = media.probe(out)
    assert (again.width, again.height, again.frame_count, again.fps_text) == (528, 432, 120, info.fps_text)
    assert again.has_audio and again.duration == pytest.approx(info.duration)
    report = media.describe(out)
    assert re.search(r"Video: h264 .*yuv420p", report) and "Audio: aac" in report
    container = re.search(r"Duration: 00:00:(\d+\.\d+)", report)
    assert container and float(container.group(1)) == pytest.approx(info.duration, abs=0.05)
    assert "round trip" in report
    atoms = top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat"), atoms


@pytest.mark.parametrize("name", ["rotated", "odd", "vfr", "late_video"])
def test_round_trip_of_awkward_clips(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    info = media.probe(clips[name])
    out = tmp_path / "out.mp4"
    with media.FrameReader(clips[name], info) as reader, media.FrameWriter(out, info, clips[name]) as w:
        for frame in reader:
            w.write(frame)
    again = media.probe(out)
    assert (again.width, again.height, again.frame_count) == (info.width, info.height, info.frame_count)
    assert again.width % 2 == 0 and again.height % 2 == 0 and again.has_audio == info.has_audio
    assert again.rotation == 0


def test_writer_removes_partial_file_on_error(carphone_clip: Path, tmp_path: Path) -> None:
    info = media.probe(carphone_clip)
    out = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError, match="stop"), media.FrameWriter(out, info) as writer:
        for i in range(30):
            writer.write(np.full((144, 176, 3), i * 8, np.uint8))
        raise RuntimeError("stop")
    assert not out.exists()


def test_writer_reports_ffmpeg_failure(carphone_clip: Path, tmp_path: Path) -> None:
    info = media.probe(carphone_clip)
    out = tmp_path / "no_such_dir" / "x.mp4"
    with pytest.raises(FFmpegError) as caught, media.FrameWriter(out, info) as writer:
        for _ in range(200):
            writer.write(np.zeros((144, 176, 3), np.uint8))
    assert "no_such_dir" in caught.value.stderr
    assert not out.exists()


def test_encode_jpeg(astronaut_bgr: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "poster.jpg"
    media.encode_jpeg(astronaut_bgr, path)
    back = cv2.imread(str(path))
    assert back.shape == astronaut_bgr.shape
    assert np.abs(back.astype(int) - astronaut_bgr).mean() < 6
