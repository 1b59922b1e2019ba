"""30 renders posted at once to 2 worker processes: all finish, none runs twice, in the order they came.

Order, defined: the submission order is the order of `created_at` (the form commits each render, then
enqueues it, one fan after another). Both workers take from one FIFO queue with prefetch 1, so each
worker must claim its renders in submission order (its `started_at` sequence follows `created_at`), and
across workers no render may be claimed later than its place in line allows: with 2 workers, a render's
rank in claim order differs from its rank in submission order by at most 1 (two workers taking
neighbours at the same instant may claim them in either order).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adstudio.renders.models import Render
from tests.reliability.harness import assert_one_complete_output, submit, wait_until_final

pytestmark = [pytest.mark.services, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

RENDERS = 30
WORKERS = 2


def test_thirty_renders_two_workers(workers, template, astronaut_jpg: Path, media: Path) -> None:
    procs = [workers(f"burst{i}", wait=False) for i in range(1, WORKERS + 1)]
    for proc in procs:
        proc.wait_ready()

    names = [f"Fan {chr(65 + i % 26)}{chr(97 + i // 26)}" for i in range(RENDERS)]  # names take no digits
    pks = [submit(template, astronaut_jpg, name=name)[0].pk for name in names]
    renders = wait_until_final(pks, timeout=300)

    assert [r.pk for r in renders] == pks  # created_at order is submission order
    assert [r.state for r in renders] == [Render.State.DONE] * RENDERS, [(r.pk, r.state, r.error) for r in renders]
    assert all(r.attempts == 1 for r in renders), [(r.pk, r.attempts) for r in renders]
    for render in renders:
        assert_one_complete_output(render, media)
    assert len(list((media / "renders").iterdir())) == RENDERS

    by_worker: dict[str, list[int]] = {}
    for index, render in sorted(enumerate(renders), key=lambda item: item[1].started_at):
        by_worker.setdefault(render.worker.split("@")[0], []).append(index)
    assert sorted(by_worker) == [f"burst{i}" for i in range(1, WORKERS + 1)], by_worker
    for name, order in by_worker.items():
        assert order == sorted(order), f"{name} claimed out of submission order: {order}"
    claim_rank = sorted(range(RENDERS), key=lambda i: renders[i].started_at)
    displaced = {index: rank - index for rank, index in enumerate(claim_rank) if abs(rank - index) > WORKERS - 1}
    assert not displaced, f"claimed out of line (index: ranks moved): {displaced}; claim order {claim_rank}"

    # Each render's task was delivered once and claimed once: no redelivery, no duplicate message.
    logs = "".join(proc.text() for proc in procs)
    received = re.findall(r"Task adstudio\.ads\.tasks\.render_ad\[([0-9a-f-]+)\] received", logs)
    assert len(received) == RENDERS and len(set(received)) == RENDERS, len(received)
    assert "not claimed" not in logs
