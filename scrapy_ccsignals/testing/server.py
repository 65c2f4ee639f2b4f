"""A real HTTP server on 127.0.0.1 whose origins are defined at run time, for tests, the
example crawl and the benchmarks.

Run ``python -m scrapy_ccsignals.testing.server``: it prints ``{"control": PORT}`` and serves a
control API on that port. ``POST /origins`` with a JSON spec opens a new origin (a new
listening port on a loopback address) and answers ``{"url": ...}``; ``GET /log?origin=URL``
lists the requests that origin saw; ``POST /routes`` with ``{"origin": URL, "routes": ...}``
replaces what an origin serves; ``POST /reset`` clears the logs.

An origin spec is ``{"routes": {PATH: ROUTE}}``. PATH is matched exactly (with the query),
else the longest key ending in ``*`` that is a prefix; anything else is a 404. A ROUTE has
``status`` (200), ``headers`` ({name: value or [values]}), ``body`` (text) or ``body_b64``,
``repeat`` (body repeated N times), ``delay`` (seconds before answering) and ``drop_after``
(close the connection after that many body bytes). A ROUTE with ``sequence`` (a list of
ROUTEs) answers its n-th request with the n-th of them, and every later one with the last
(a site that is busy, then recovers). :class:`TestServer` drives it from Python.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request as UrlRequest
from urllib.request import urlopen


def _serve(host: str) -> None:  # pragma: no cover - runs in the subprocess
    from twisted.internet import reactor as _reactor
    from twisted.web import resource, server

    reactor: Any = _reactor

    logs: dict[str, list[dict[str, Any]]] = {}
    origins: dict[str, Any] = {}

    class Origin(resource.Resource):
        isLeaf = True

        def __init__(self, spec: dict[str, Any]):
            super().__init__()
            self.url = ""
            self.set_routes(spec.get("routes", {}))

        def set_routes(self, routes: dict[str, dict[str, Any]]) -> None:
            self.routes = routes
            self.served: dict[int, int] = {}  # id of a ``sequence`` route -> requests seen
            self.prefixes = sorted(
                (k[:-1] for k in self.routes if k.endswith("*")), key=len, reverse=True
            )

        def route(self, path: str) -> dict[str, Any] | None:
            if path in self.routes:
                return self.routes[path]
            for prefix in self.prefixes:
                if path.startswith(prefix):
                    return self.routes[prefix + "*"]
            return None

        def render(self, request: Any) -> Any:
            path = request.uri.decode("latin-1")
            logs.setdefault(self.url, []).append(
                {
                    "method": request.method.decode(),
                    "path": path,
                    "user_agent": (request.getHeader("user-agent") or ""),
                    "time": time.time(),
                }
            )
            route = self.route(path) or {"status": 404, "body": "not found"}
            if "sequence" in route:
                steps = route["sequence"]
                seen = self.served.get(id(route), 0)
                self.served[id(route)] = seen + 1
                route = steps[min(seen, len(steps) - 1)]
            if "body_b64" in route:
                body = base64.b64decode(route["body_b64"])
            else:
                body = str(route.get("body", "")).encode("utf-8")
            body *= int(route.get("repeat", 1))
            request.setResponseCode(int(route.get("status", 200)))
            headers = dict(route.get("headers", {}))
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
            for name, value in headers.items():
                for v in value if isinstance(value, list) else [value]:
                    request.responseHeaders.addRawHeader(name, str(v))

            def answer() -> None:
                if request.finished or request._disconnected:
                    return
                drop = route.get("drop_after")
                if drop is not None:
                    request.setHeader("Content-Length", str(len(body)))
                    request.write(body[: int(drop)])
                    request.channel.transport.abortConnection()
                    return
                request.write(body)
                request.finish()

            delay = float(route.get("delay", 0))
            if delay:
                reactor.callLater(delay, answer)
            else:
                answer()
            return server.NOT_DONE_YET

    class Control(resource.Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            if request.path == b"/reset":
                logs.clear()
                return b"{}"
            spec = json.loads(request.content.read() or b"{}")
            if request.path == b"/routes":
                origins[spec["origin"]].set_routes(spec["routes"])
                return b"{}"
            origin = Origin(spec)
            bind = spec.get("host", host)
            port = reactor.listenTCP(0, server.Site(origin), interface=bind)
            origin.url = f"http://{bind}:{port.getHost().port}"
            origins[origin.url] = origin
            logs[origin.url] = []
            return json.dumps({"url": origin.url}).encode()

        def render_GET(self, request: Any) -> bytes:
            query = parse_qs(urlsplit(request.uri.decode()).query)
            return json.dumps(logs.get(query.get("origin", [""])[0], [])).encode()

    site = server.Site(Control())
    site.noisy = False
    control = reactor.listenTCP(0, site, interface=host)
    print(json.dumps({"control": control.getHost().port}), flush=True)
    reactor.run()


class TestServer:
    """Start the server in a subprocess and talk to its control API."""

    __test__ = False  # not a pytest test class

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.proc: subprocess.Popen[str] | None = None
        self.control = ""

    def start(self) -> TestServer:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy_ccsignals.testing.server", self.host],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the test server did not start")
        self.control = f"http://{self.host}:{json.loads(line)['control']}"
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, path: str, data: dict[str, Any] | None = None) -> Any:
        body = None if data is None else json.dumps(data).encode()
        req = UrlRequest(self.control + path, data=body, method="GET" if data is None else "POST")
        with urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def add_origin(self, routes: dict[str, Any], host: str | None = None) -> str:
        """Open a new origin serving *routes*; returns its base URL (no trailing slash)."""
        spec: dict[str, Any] = {"routes": routes}
        if host:
            spec["host"] = host
        return str(self._call("/origins", spec)["url"])

    def set_routes(self, origin: str, routes: dict[str, Any]) -> None:
        """Replace what *origin* serves (a site that changes its mind between two crawls)."""
        self._call("/routes", {"origin": origin, "routes": routes})

    def log(self, origin: str) -> list[dict[str, Any]]:
        return list(self._call(f"/log?origin={origin}"))

    def paths(self, origin: str) -> list[str]:
        """The paths (with query) the origin was asked for, in order."""
        return [entry["path"] for entry in self.log(origin)]


if __name__ == "__main__":  # pragma: no cover
    _serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1")
