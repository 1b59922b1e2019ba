"""Redis restarts (and forgets everything) while renders run and wait: all of them still end, truly.

A private redis-server (no persistence) is the broker, the channel layer and the cache of a real daphne
and two worker processes; the fans post the real form over HTTP and watch over real WebSockets. Redis
is killed mid-render and started again empty: the queued messages, the channel groups and the unacked
message of the running render are gone. Afterwards:
- the web server serves pages and takes new uploads again (it reconnects);
- the workers reconnect; the recovery sweep sees the wiped broker and re-enqueues the queued renders;
- every render ends `done` with exactly one complete output, and each fan's WebSocket (reconnecting
  like the render page) sees that final state.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from adstudio.catalog.models import Template
from adstudio.renders.models import Render
from tests.reliability.fan import Fan, Watch, watch
from tests.reliability.harness import assert_one_complete_output, files_under, wait_until_final
from tests.reliability.procs import Proc, free_port, start_worker, web_argv

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

WEB_PORT = 8018
BEFORE, AFTER = 8, 2


def start_redis(port: int, log_dir: Path, generation: int) -> Proc:
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no"]
    return Proc(argv, {"PATH": "/usr/bin:/bin:/usr/local/bin"}, log_dir / f"redis-{generation}.log",
                b"Ready to accept connections")


class Watchers:
    """Each fan's WebSocket, in an event loop on a thread of its own while the test drives the rest."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.futures: list = []

    def follow(self, fan: Fan, public_id: str, timeout: float) -> Watch:
        seen = Watch()
        self.futures.append(asyncio.run_coroutine_threadsafe(watch(fan, public_id, timeout, seen), self.loop))
        return seen

    def wait(self, timeout: float) -> None:
        for future in self.futures:
            future.result(timeout=timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_redis_restart_mid_render(
    service_env, template: Template, astronaut_jpg: Path, media: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {**service_env, "REDIS_URL": f"redis://127.0.0.1:{port}/0", "RENDER_STALE_AFTER": "5",
           "CELERY_VISIBILITY_TIMEOUT": "10"}
    procs = [start_redis(port, tmp_path, 1)]
    try:
        procs[0].wait_ready(timeout=20)
        daphne = web_argv("127.0.0.1", WEB_PORT)
        procs.append(Proc(daphne, env, tmp_path / "daphne.log", b"Listening on TCP address"))
        procs[1].wait_ready()

        base = f"http://127.0.0.1:{WEB_PORT}"
        selfie = astronaut_jpg.read_bytes()
        watchers = Watchers()
        fans: list[tuple[Fan, str, Watch]] = []

        def post(name: str) -> None:
            fan = Fan(base)
            _, posted = fan.personalise(template.slug, selfie, name)
            assert posted.status == 302, (posted.status, posted.body[:1500])
            public_id = posted.headers["location"].rstrip("/").split("/")[-1]
            fans.append((fan, public_id, watchers.follow(fan, public_id, timeout=150)))

        for i in range(BEFORE):  # before the workers start, so some are surely still queued at the restart
            post(f"Before {chr(65 + i)}")
        workers = [start_worker(f"redis{i}", env, tmp_path) for i in (1, 2)]
        procs += workers
        for worker in workers:
            worker.wait_ready()
        deadline = time.monotonic() + 60
        while not Render.objects.filter(state=Render.State.RUNNING, progress__gt=0.1).exists():
            assert time.monotonic() < deadline, list(Render.objects.values_list("state", "progress"))
            time.sleep(0.05)

        states_during = sorted(Render.objects.values_list("state", flat=True))
        procs[0].kill9()  # Redis dies without saving anything...
        time.sleep(1.0)
        procs.append(start_redis(port, tmp_path, 2))  # ...and comes back empty
        procs[-1].wait_ready(timeout=20)

        catalog = Fan(base).get("/")
        assert catalog.status == 200, catalog.body[:1000]
        for i in range(AFTER):
            post(f"After {chr(65 + i)}")

        pks = list(Render.objects.order_by("created_at").values_list("pk", flat=True))
        assert len(pks) == BEFORE + AFTER
        renders = wait_until_final(pks, timeout=150)
        watchers.wait(timeout=60)
        for fan, public_id, _ in fans:  # a reload after it all shows the finished ad
            page = fan.get(f"/r/{public_id}/")
            assert page.status == 200 and b"/a/" in page.body
    finally:
        for proc in sorted(procs, key=lambda p: p.log.name.startswith("redis-")):  # Redis last
            proc.stop()

    assert "queued" in states_during and "running" in states_during, states_during
    assert [r.state for r in renders] == [Render.State.DONE] * len(renders), [(r.pk, r.state, r.error) for r in renders]
    for render in renders:
        assert_one_complete_output(render, media)
    assert files_under(media / "work") == [] and files_under(media / "selfies") == []
    logs = "".join(proc.text() for proc in procs)
    assert "re-enqueued" in logs  # the sweep, not luck, brought the wiped queue back

    for _fan, public_id, seen in fans:
        assert seen.final == "done", (public_id, seen.messages[-3:], seen.errors)
    assert sum(seen.connects > 1 for _, _, seen in fans) >= 1, [(s.connects, s.errors) for _, _, s in fans]
