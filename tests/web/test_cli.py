"""The operators' commands: real subprocesses, real engine, exit codes and output as scripts rely on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.web.cli import cli_environment, error_lines, last_line, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return cli_environment(tmp_path_factory.mktemp("cli"))





@pytest.fixture(scope="module")
def slug(cli_env: dict[str, str], talking_clip: Path) -> str:
    proc = run(cli_env, "add_template", str(talking_clip), "--title", "CLI ad", "--publish", check=True)
    return last_line(proc.stdout)


def test_add_template_prints_slug_last(slug: str) -> None:
    assert slug == "cli-ad"


def test_render_writes_the_ad_and_prints_its_path(cli_env, slug, astronaut_jpg, tmp_path) -> None:
    out = tmp_path / "ad.mp4"
    proc = run(cli_env, "render", slug, "--selfie", str(astronaut_jpg), "--name", "Asha", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert last_line(proc.stdout) == str(out)
    from swapengine.media import probe

    assert probe(out).frame_count == 120 and probe(out).has_audio


@pytest.mark.parametrize(
    "case",
    ["no_face", "face_covered", "not_image", "bad_name", "unknown_slug", "missing_file"],
)
def test_render_bad_input_exits_2_with_one_line(cli_env, slug, astronaut_jpg, tmp_path, case) -> None:
    selfie, name, target = str(astronaut_jpg), "Asha", slug
    if case == "no_face":
        import cv2

        noise = np.random.default_rng(1).integers(0, 255, (480, 480, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / "noise.jpg"), noise)
        selfie = str(tmp_path / "noise.jpg")
    elif case == "face_covered":  # a mask drawn over the astronaut (swapengine.selfiescreen)
        from tests.web.selfies import variant_bytes

        (tmp_path / "masked.jpg").write_bytes(variant_bytes("face_covered"))
        selfie = str(tmp_path / "masked.jpg")
    elif case == "not_image":
        (tmp_path / "notes.jpg").write_text("this is not a photo")
        selfie = str(tmp_path / "notes.jpg")
    elif case == "bad_name":
        name = "Asha\x07"
    elif case == "unknown_slug":
        target = "no-such-ad"
    else:
        selfie = str(tmp_path / "absent.jpg")
    out = tmp_path / "ad.mp4"
    rows_before = render_rows(cli_env) if case in ("face_covered", "no_face") else -1
    proc = run(cli_env, "render", target, "--selfie", selfie, "--name", name, "--out", str(out))
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(error_lines(proc)) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()
    if case in ("face_covered", "no_face"):  # the form's line, from the same check, before any render row
        from swapengine.faces.screening import ScreenMessage

        line = ScreenMessage.face_covered if case == "face_covered" else "We could not find a face in this photo"
        assert line in error_lines(proc)[0]
        assert render_rows(cli_env) == rows_before


def render_rows(env: dict[str, str]) -> int:
    code = "from adstudio.renders.models import Render; print(Render.objects.count())"
    return int(last_line(run(env, "shell", "-c", code, check=True).stdout))


def test_render_internal_failure_exits_1(cli_env, slug, astronaut_jpg, tmp_path) -> None:
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'ffmpeg: simulated crash' >&2\nexit 1\n")
    broken.chmod(0o755)
    env = {**cli_env, "IMAGEIO_FFMPEG_EXE": str(broken)}
    out = tmp_path / "ad.mp4"
    proc = run(env, "render", slug, "--selfie", str(astronaut_jpg), "--out", str(out))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert len(error_lines(proc)) == 1 and not out.exists()
    assert "simulated crash" in proc.stderr  # the log keeps ffmpeg's own words for the operator


@pytest.mark.parametrize("case", ["text_as_clip", "bad_track"])
def test_add_template_bad_input_exits_2(cli_env, talking_clip, tmp_path, case) -> None:
    if case == "text_as_clip":
        clip = tmp_path / "clip.mp4"
        clip.write_text("not a video")
        args = [str(clip), "--title", "Broken"]
    else:
        args = [str(talking_clip), "--title", "Bad track", "--fan-track", "9"]
    proc = run(cli_env, "add_template", *args)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(error_lines(proc)) == 1 and "Traceback" not in proc.stderr, proc.stderr


def json_log_lines(stderr: str) -> list[dict]:
    """The JSON log records on stderr (a progress bar's carriage-return redraws may precede one)."""
    import json

    return [json.loads(line[line.index('{"time"'):]) for line in stderr.splitlines() if '{"time"' in line]


def test_heic_selfie_renders_and_the_render_logs_json_events(cli_env, slug, tmp_path) -> None:
    """An iPhone's HEIC selfie renders; under LOG_FORMAT=json each event is one JSON line with its facts."""
    from PIL import Image
    from pillow_heif import register_heif_opener
    from skimage import data

    register_heif_opener()
    selfie = tmp_path / "IMG_0001.HEIC"
    Image.fromarray(data.astronaut()).save(selfie, "HEIF", quality=90)
    assert selfie.read_bytes()[4:12] == b"ftypheic"
    out = tmp_path / "ad.mp4"
    proc = run({**cli_env, "LOG_FORMAT": "json"}, "render", slug, "--selfie", str(selfie), "--name", "Asha",
               "--out", str(out))
    assert proc.returncode == 0 and out.stat().st_size > 10_000, proc.stderr[-3000:]
    events = [line for line in json_log_lines(proc.stderr) if line.get("event", "").startswith("render.")]
    assert [e["event"] for e in events][:1] == ["render.start"] and events[-1]["event"] == "render.end", events
    assert {"prepare", "swap", "finish"} <= {e["stage"] for e in events if e["event"] == "render.stage"}, events
    for event in events:
        assert {"render_id", "stage", "duration", "outcome", "time", "level", "message"} <= set(event), event
        assert isinstance(event["duration"], float | int) and event["duration"] >= 0
    assert events[-1]["outcome"] == "done" and len({e["render_id"] for e in events}) == 1
