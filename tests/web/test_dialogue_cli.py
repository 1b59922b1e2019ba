"""Dialogue through the operators' commands: real subprocesses, real engine, a real spoken soundtrack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swapengine.voice import slots as dialogue
from swapengine.voice import speech
from tests.web.cli import cli_environment, error_lines, run

pytestmark = pytest.mark.slow
SLOT = (1.2, 2.4)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return cli_environment(tmp_path_factory.mktemp("dialogue-cli"))




@pytest.fixture(scope="module")
def shop_slug(cli_env: dict[str, str], speech_clip: Path) -> str:
    proc = run(cli_env, "add_template", str(speech_clip), "--title", "Shop ad", "--fan-track", "none",
               "--dialogue", f"{SLOT[0]}-{SLOT[1]}:Order from {{shop}}", check=True)
    assert "slot 1.20-2.40 s, track 0: Order from {shop}" in proc.stderr  # the speaker was chosen
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def name_slug(cli_env: dict[str, str], speech_clip: Path) -> str:
    proc = run(cli_env, "add_template", str(speech_clip), "--title", "Diwali", "--fan-track", "0",
               "--dialogue", f"{SLOT[0]}-{SLOT[1]}:{{name}}", "--speaker-track", "0", check=True)
    return proc.stdout.strip().splitlines()[-1]


def slot_change(clip: Path, out: Path) -> tuple[float, float]:
    """(RMS difference inside the slot, correlation outside it) between the template's sound and the ad's."""
    sr = 16000
    a, b = speech.load_audio(clip, sr), speech.load_audio(out, sr)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    i, j = int(SLOT[0] * sr), int(SLOT[1] * sr)
    inside = float(np.sqrt(np.mean((a[i:j] - b[i:j]) ** 2)) / np.sqrt(np.mean(a[i:j] ** 2)))
    outside = np.concatenate([a[:i - 800], a[j + 800:]]), np.concatenate([b[:i - 800], b[j + 800:]])
    return inside, float(np.corrcoef(*outside)[0, 1])


def test_dialogue_only_ad_needs_no_selfie(cli_env, shop_slug, speech_clip, tmp_path) -> None:
    out = tmp_path / "shop.mp4"
    proc = run(cli_env, "render", shop_slug, "--field", "shop=Sharma Sweets", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    from swapengine.media import probe

    info = probe(out)
    assert info.frame_count == 120 and info.has_audio
    inside, outside = slot_change(speech_clip, out)
    assert inside > 0.5 and outside > 0.95  # the slot says something new; the rest is the template's sound
    assert "Slot 1.20-2.40 s: said by Piper (joe-us); lips articulated from the voice's phoneme timings." \
        in proc.stderr


def test_slot_audio_replaces_the_voice(cli_env, shop_slug, speech_clip, tmp_path) -> None:
    from swapengine.voice.tts import PiperVoice

    take = PiperVoice().synthesise("Order from Sharma Sweets")
    recording = dialogue.write_wav(tmp_path / "take.wav", take.samples[:, None], take.sr)
    out = tmp_path / "take.mp4"
    proc = run(cli_env, "render", shop_slug, "--field", "shop=Sharma Sweets", "--slot-audio", str(recording),
               "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert slot_change(speech_clip, out)[0] > 0.5
    # The take says the slot's words, so the reading's phoneme timings are aligned onto it.
    assert "said by a recording; lips articulated from phoneme timings aligned to the recording." in proc.stderr


@pytest.mark.parametrize("case", ["profane", "sensitive", "missing_field", "unknown_field", "no_selfie"])
def test_refusals_exit_2_with_one_line(cli_env, shop_slug, name_slug, astronaut_jpg, tmp_path, case) -> None:
    out = tmp_path / "ad.mp4"
    args = ["render", shop_slug, "--field", "shop=Sharma Sweets", "--out", str(out)]
    if case == "profane":
        args = ["render", name_slug, "--selfie", str(astronaut_jpg), "--name", "f u c k", "--out", str(out)]
    elif case == "sensitive":
        run(cli_env, "shell", "-c", "from adstudio.trust.models import SensitiveTerm as S; "
            "S.objects.get_or_create(term='Swiggy')", check=True)
        args[3] = "shop=Swiggy Store"
    elif case == "missing_field":
        args = ["render", shop_slug, "--out", str(out)]
    elif case == "unknown_field":
        args[3] = "city=Pune"
    else:
        args = ["render", name_slug, "--name", "Asha", "--out", str(out)]
    proc = run(cli_env, *args)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(error_lines(proc)) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()
    if case in ("profane", "sensitive"):
        assert "choose a different name" in proc.stderr


@pytest.mark.parametrize("spec", ["1.2:no span", "a-b:{name}", "1.0-1.1:{name}", "1-2:{Name}", "1-2:  "])
def test_bad_dialogue_specs_exit_2(cli_env, speech_clip, spec) -> None:
    proc = run(cli_env, "add_template", str(speech_clip), "--title", "Bad", "--dialogue", spec)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert len(error_lines(proc)) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_slot_past_the_end_exits_2(cli_env, speech_clip) -> None:
    proc = run(cli_env, "add_template", str(speech_clip), "--title", "Late", "--fan-track", "none",
               "--dialogue", "3.5-9.0:{name}")
    assert proc.returncode == 2 and "only 4.0" in proc.stderr, proc.stderr[-3000:]
