"""A scripted fan over real sockets: pages and the upload form over HTTP, the render page's WebSocket.

Shared by the Redis-restart test and scripts/loadtest.py. Standard library HTTP (one connection per
request, like a phone on a flaky network) and the `websockets` client, which reconnects the way
static/js/render.js does: after a drop, try again with a growing delay; the server's first message
on connect is the render's true state.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import ipaddress
import json
import random
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

FINAL = ("done", "failed", "cancelled")
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def require_loopback(base_url: str) -> tuple[str, int]:
    """Refuse anything but this machine: these clients are for load and fault tests only."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"{base_url!r}: expected http://127.0.0.1:PORT")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port)}
    except socket.gaierror as exc:
        raise ValueError(f"{base_url!r}: cannot resolve {parts.hostname}: {exc}") from None
    if not addresses or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise ValueError(f"{base_url!r} resolves to {sorted(addresses)}: only loopback targets are allowed")
    return parts.hostname, parts.port


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


@dataclass
class Fan:
    """One browser: its own cookie jar (so its own session and render quota)."""

    base_url: str
    timeout: float = 30.0
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.host, self.port = require_loopback(self.base_url)

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = self.cookie_header()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body or None, headers=sent)
            reply = conn.getresponse()
            data = reply.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        for value in reply.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data, seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def personalise(self, slug: str, selfie: bytes, name: str) -> tuple[Response, Response]:
        """GET the form, POST it (selfie, name, consent, CSRF token). Returns both responses."""
        form = self.get(f"/t/{slug}/")
        if form.status != 200:
            return form, form
        token = CSRF_FIELD.search(form.body)
        if token is None:
            raise AssertionError("no CSRF token on the personalise page")
        boundary = secrets.token_hex(16)
        parts = []
        for key, value in (("csrfmiddlewaretoken", token.group(1).decode()), ("name", name), ("consent", "on")):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="selfie"; filename="selfie.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode() + selfie + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Origin": f"http://{self.host}:{self.port}",
            "Referer": f"http://{self.host}:{self.port}/t/{slug}/",
        }
        return form, self.request("POST", f"/t/{slug}/", b"".join(parts), headers)


@dataclass
class Watch:
    """What one WebSocket watcher saw of one render."""

    messages: list[dict] = field(default_factory=list)
    connects: int = 0
    drops: int = 0
    errors: list[str] = field(default_factory=list)
    first_message_s: list[float] = field(default_factory=list)

    @property
    def final(self) -> str | None:
        return self.messages[-1]["state"] if self.messages and self.messages[-1]["state"] in FINAL else None


async def watch(
    fan: Fan, public_id: str, timeout: float, watch_state: Watch | None = None, linger: float = 0.0
) -> Watch:
    """Follow a render until a final state, reconnecting after drops like the render page does.

    `linger` keeps the socket open that much longer after the final state (a page left open).
    """
    import websockets

    seen = watch_state or Watch()
    url = f"ws://{fan.host}:{fan.port}/ws/renders/{public_id}/"
    headers = {"Cookie": fan.cookie_header()}
    origin = f"http://{fan.host}:{fan.port}"
    deadline = time.monotonic() + timeout
    delay = 1.0
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            async with websockets.connect(
                url, additional_headers=headers, origin=origin, open_timeout=10, max_size=2**20  # type: ignore[arg-type]
            ) as ws:
                seen.connects += 1
                first = True
                while time.monotonic() < deadline:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, deadline - time.monotonic()))
                    except TimeoutError:
                        break
                    if first:
                        seen.first_message_s.append(time.perf_counter() - started)
                        first, delay = False, 1.0
                    message = json.loads(raw)
                    seen.messages.append(message)
                    if message.get("state") in FINAL:
                        with contextlib.suppress(TimeoutError, websockets.exceptions.ConnectionClosed):
                            until = min(deadline, time.monotonic() + linger)
                            while (left := until - time.monotonic()) > 0:
                                await asyncio.wait_for(ws.recv(), timeout=left)
                        return seen
                seen.drops += 1
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            seen.drops += 1
            seen.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        # static/js/render.js's backoff: 1 s doubling to 30 s, with +-25% jitter.
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())) * random.uniform(0.75, 1.25))
        delay = min(delay * 2, 30.0)
    return seen
