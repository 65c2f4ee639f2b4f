from __future__ import annotations

from collections.abc import Iterator

import pytest

from scrapy_ccsignals.testing.server import TestServer


@pytest.fixture(scope="session")
def server() -> Iterator[TestServer]:
    """One real HTTP server subprocess on 127.0.0.1 for the whole session; each test
    opens the origins it needs on ports of their own."""
    with TestServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port (Debian's redis-server package, which
    .ci/run installs); the tests that need it skip, saying why, where it is missing."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One real crawl of the demo web (plus a blog with attribution metadata) for the
    dataset-command tests: its folder (items.jsonl/.json/.csv, audit.jsonl) and sites."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path_factory.mktemp("crawled")
    script = Path(__file__).resolve().parent / "dataset_crawl.py"
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return {"dir": out, "sites": json.loads(done.stdout.strip().splitlines()[-1])}
