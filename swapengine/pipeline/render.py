"""One fan's render: decode -> frame stages (mouths, swap, label, watermark) -> encode, joined by bounded
queues.

Decoding and encoding run in ffmpeg processes fed by two threads; the frame stages (and the progress callback,
which may touch a database or raise Cancelled) runs in the calling thread. Bounded queues keep memory
flat; the first failure anywhere stops all three, kills ffmpeg and removes partial files.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from swapengine.errors import EngineError
from swapengine.faces.analysis import TemplateAnalysis
from swapengine.faces.detect import analyse_selfie, load_image
from swapengine.faces.tracks import FaceTrack
from swapengine.media.frames import FrameReader, FrameWriter, encode_jpeg
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.dialogue import DialogueRequest, PreparedDialogue, prepare_dialogue
from swapengine.pipeline.stages import EachFrame, FrameStage, KeepPoster, Preview, SwapStage
from swapengine.progress import Progress, ProgressCallback
from swapengine.provenance.label import Label, LabelStamp, render_metadata
from swapengine.provenance.watermark import Watermarker
from swapengine.swap.swapper import FaceSwapper

STAGES = {"prepare": (0.0, 0.05), "swap": (0.05, 0.97), "finish": (0.97, 1.0)}
QUEUE_FRAMES = 6
# Frames handed to the swapper at once (one torch batch on a GPU worker).
SWAP_BATCH = 4
# Every frame alive at once (both queues, the swap batch, one in each stage, one being read into) needs
# its own buffer.
READER_RING = 2 * QUEUE_FRAMES + SWAP_BATCH + 6
_POLL_S = 0.1


@dataclass
class RenderRequest:
    clip: Path
    analysis: TemplateAnalysis
    track_id: int | None  # None, with no selfie: a dialogue-only ad
    selfie: Path | None
    out_video: Path
    out_poster: Path
    render_id: str
    label: Label
    watermark: Watermarker | None = None  # the render's id, invisibly in every frame
    dialogue: DialogueRequest | None = None  # new lines said in the template's dialogue slots
    out_preview: Path | None = None  # a still of the first composed frame, so the fan sees it early


@dataclass
class RenderResult:
    frames: int
    duration: float
    seconds: float
    poster_frame: int
    notes: list[str] = field(default_factory=list)  # how it was made, where a fallback was used


class _Stop(Exception):
    """Raised inside a worker thread when another stage failed, so its `with` blocks clean up."""


class _Pipeline:
    """The shared stop flag and first error of the three stages."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def fail(self, exc: BaseException) -> None:
        if not isinstance(exc, _Stop):
            self.errors.append(exc)
        self.stop.set()

    def put(self, q: queue.Queue[tuple[int, np.ndarray] | None], item: tuple[int, np.ndarray] | None) -> None:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def get(self, q: queue.Queue[tuple[int, np.ndarray] | None]) -> tuple[int, np.ndarray] | None:
        while True:
            if self.stop.is_set():
                raise _Stop
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue

    def thread(self, target: Callable[[], None], name: str) -> threading.Thread:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                self.fail(exc)

        worker = threading.Thread(target=run, name=name, daemon=True)
        worker.start()
        return worker


def poster_index(track: FaceTrack) -> int:
    """The tracked frame nearest the middle of the track: the fan's face is certainly swapped there."""
    middle = (track.start + track.end) / 2
    return int(track.frames[int(np.argmin(np.abs(track.frames.astype(np.float64) - middle)))])


@dataclass
class FrameStages:
    """The render's stages in order; `swap` is also kept apart because the preview asks it where the fan's
    face shows."""

    all: list[FrameStage]
    swap: SwapStage | None


def frame_stages(req: RenderRequest, spoken: PreparedDialogue | None, swapper: FaceSwapper | None,
                 track: FaceTrack | None) -> FrameStages:
    stages: list[FrameStage] = []
    if spoken is not None:
        stages.append(EachFrame(spoken.apply))
    swap = SwapStage(swapper, track, spoken) if swapper is not None and track is not None else None
    if swap is not None:
        stages.append(swap)
    stages.append(EachFrame(LabelStamp(req.label, req.analysis.info.width, req.analysis.info.height)))
    if req.watermark is not None:
        stages.append(EachFrame(req.watermark))
    return FrameStages(stages, swap)


def render(
    req: RenderRequest, ctx: EngineContext, progress: ProgressCallback | None = None, swap_device: str | None = None
) -> RenderResult:
    """swap_device: None for the OpenCV swap (fastest on CPU), or a torch device ("cuda") for batches."""
    started = time.monotonic()
    report = Progress(progress, STAGES)
    report.report("prepare", 0.0)
    info = req.analysis.info
    track = req.analysis.track(req.track_id) if req.track_id is not None else None
    swapper = None
    if track is not None and req.selfie is not None:
        image = load_image(req.selfie)
        report.report("prepare", 0.3)
        swapper = FaceSwapper(analyse_selfie(image, ctx.analyzer), device=swap_device)
    tags = render_metadata(req.render_id, req.analysis.key)
    spoken: PreparedDialogue | None = None
    if req.dialogue is not None:  # its WAV is removed by the encode thread, however the render ends
        wav = req.out_video.with_name(req.out_video.stem + "-dialogue.wav")
        spoken = prepare_dialogue(req.dialogue, req.clip, req.analysis, wav, ctx.voice)
    wanted_poster = poster_index(track) if track is not None else spoken.poster_frame if spoken else 0
    notes = spoken.notes() if spoken is not None else []
    report.report("prepare", 1.0)

    pipe = _Pipeline()
    decoded: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(maxsize=QUEUE_FRAMES)
    finished: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(maxsize=QUEUE_FRAMES)
    written = [0]

    def read() -> None:
        with FrameReader(req.clip, info, ring=READER_RING) as reader:
            for index, frame in enumerate(reader):
                pipe.put(decoded, (index, frame))
        pipe.put(decoded, None)

    def write() -> None:
        audio = spoken.audio_path if spoken is not None else req.clip if info.has_audio else None
        try:
            with FrameWriter(req.out_video, info, audio_source=audio, metadata=tags) as writer:
                while (item := pipe.get(finished)) is not None:
                    writer.write(item[1])
                written[0] = writer.frames
        finally:
            if spoken is not None:
                spoken.close()

    stages = frame_stages(req, spoken, swapper, track)
    poster = KeepPoster(wanted_poster)
    chain: list[FrameStage] = [*stages.all, EachFrame(poster)]
    if req.out_preview is not None:  # the first frame with the fan's face, when there is a swap
        chain.append(EachFrame(Preview(req.out_preview, stages.swap.covers if stages.swap else lambda _: True)))
    threads = [pipe.thread(read, "render-decode"), pipe.thread(write, "render-encode")]
    try:
        done = False
        while not done:
            indices: list[int] = []
            frames: list[np.ndarray] = []
            while len(frames) < SWAP_BATCH:  # the swapper takes a few frames at once (a GPU batch)
                if (item := pipe.get(decoded)) is None:
                    done = True
                    break
                indices.append(item[0])
                frames.append(item[1])
            for stage in chain:
                frames = stage(indices, frames)
            for index, frame in zip(indices, frames, strict=True):
                pipe.put(finished, (index, frame))
                report.report("swap", (index + 1) / max(info.frame_count, 1))
        pipe.put(finished, None)
    except BaseException as exc:
        pipe.fail(exc)
    for worker in threads:
        worker.join()
    if pipe.errors:
        req.out_video.unlink(missing_ok=True)
        raise pipe.errors[0]

    try:
        if written[0] != info.frame_count:
            raise EngineError(f"wrote {written[0]} frames, the template has {info.frame_count}")
        if poster.frame is None:
            raise EngineError(f"poster frame {wanted_poster} never reached the swap stage")
        report.report("finish", 0.0)
        encode_jpeg(poster.frame, req.out_poster)
        report.report("finish", 1.0)
    except BaseException:
        req.out_video.unlink(missing_ok=True)
        req.out_poster.unlink(missing_ok=True)
        raise
    return RenderResult(
        frames=written[0],
        duration=written[0] / info.fps,
        seconds=time.monotonic() - started,
        poster_frame=wanted_poster,
        notes=notes,
    )
