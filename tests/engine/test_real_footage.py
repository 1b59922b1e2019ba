"""Real selfies, bad uploads and templates from ../shared/media: the checks hold beyond generated inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from swapengine import media
from swapengine.errors import BadInput
from swapengine.faces.analysis import analyse_template
from swapengine.faces.detect import FaceAnalyzer, analyse_selfie, load_image
from swapengine.faces.identity import FaceIdentity
from swapengine.pipeline.context import EngineContext
from swapengine.swap.swapper import FaceSwapper

SELFIES = [
    "s01_fr_biden2.jpg", "s03_fr_alex_lacamoire.jpg", "s04_fr_rose_leslie.jpg", "s06_df_pichai.jpg",
    "s08_df_bezos.jpg", "s10_if_attr1423.jpg", "s12_if_happy.png", "s14_if_teresa_williams.jpg",
    "s15_lp_d8.jpg", "s17_hallo_6.jpg", "s19_hallo_3_bw.jpg", "s21_ghost_murakami.jpg",
]
BAD = {
    "b01_noface_landscape.jpg": "no_face",
    "b02_noface_dark.png": "no_face",
    "b03_multi_group6.jpg": "several_faces",
    "b04_multi_two_people.jpg": "several_faces",
    "b07_tiny_112px.png": "face_too_small",
    "b09_blurry.jpg": "too_blurry",
    "b13_animal_dog.jpg": "no_face",
}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[FaceAnalyzer]:
    a = FaceAnalyzer()
    yield a
    a.close()


@pytest.mark.parametrize("name", SELFIES)
def test_real_selfie_accepted(shared_media: Path, analyzer: FaceAnalyzer, name: str) -> None:
    selfie = analyse_selfie(load_image(shared_media / "selfies" / name), analyzer)
    assert selfie.quality["face_px"] >= 88
    assert max(selfie.box[2] - selfie.box[0], selfie.box[3] - selfie.box[1]) <= 520


@pytest.mark.parametrize(("name", "code"), sorted(BAD.items()))
def test_bad_upload_rejected(shared_media: Path, analyzer: FaceAnalyzer, name: str, code: str) -> None:
    with pytest.raises(BadInput) as info:
        analyse_selfie(load_image(shared_media / "bad" / name), analyzer)
    assert info.value.code == code


def test_photo_stored_sideways_is_accepted(shared_media: Path, analyzer: FaceAnalyzer) -> None:
    """b16 is rotated in its pixels (no EXIF tag): mediapipe finds the tilted face, and the swap follows
    landmarks, not the image axes, so it is usable and accepted."""
    selfie = analyse_selfie(load_image(shared_media / "bad" / "b16_rotated90.jpg"), analyzer)
    eyes_dx = abs(float(selfie.landmarks[33, 0] - selfie.landmarks[263, 0]))
    eyes_dy = abs(float(selfie.landmarks[33, 1] - selfie.landmarks[263, 1]))
    assert eyes_dy > eyes_dx  # the eyes are one above the other: the face really is sideways


def test_real_template_one_track(shared_media: Path, tmp_path: Path) -> None:
    clip = shared_media / "templates" / "t07_retalk_face5.mp4"
    with EngineContext(tmp_path) as ctx:
        result = analyse_template(clip, tmp_path, ctx)
    assert len(result.tracks) >= 1
    main = result.track(result.default_track_id())
    assert len(main.frames) >= 0.9 * result.info.frame_count


def test_multi_person_clip_has_several_tracks(shared_media: Path, tmp_path: Path) -> None:
    clip = shared_media / "templates_multi" / "m01_fr_short_hamilton.mp4"
    with EngineContext(tmp_path) as ctx:
        result = analyse_template(clip, tmp_path, ctx)
    assert len(result.tracks) >= 2
    summary = result.summary()
    assert all((result.directory / t["thumbnail"]).exists() for t in summary["tracks"])
    assert len({t["thumbnail"] for t in summary["tracks"]}) == len(result.tracks)


def test_swap_identity_on_real_template(shared_media: Path, analyzer: FaceAnalyzer) -> None:
    selfie = analyse_selfie(load_image(shared_media / "selfies" / "s08_df_bezos.jpg"), analyzer)
    swapper = FaceSwapper(selfie)
    identity = FaceIdentity()
    fan = identity.embedding(selfie.image)
    assert fan is not None
    clip = shared_media / "templates" / "t07_retalk_face5.mp4"
    info = media.probe(clip)
    wins, measured = 0, 0
    with media.FrameReader(clip, info) as reader, analyzer.video_session(max_faces=1) as session:
        for index, frame in enumerate(reader):
            faces = session.process(frame)
            if not faces or index % 20 != 5:
                continue
            original = identity.embedding(frame)
            swapped = identity.embedding(swapper.apply(frame, faces[0].landmarks))
            if original is None or swapped is None:
                continue
            measured += 1
            wins += identity.distance(swapped, fan) < identity.distance(swapped, original)
    assert measured >= 4
    assert wins >= 0.75 * measured, f"{wins}/{measured}"
    assert np.isfinite(identity.distance(fan, fan))
