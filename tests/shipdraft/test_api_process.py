"""``shipdraft api`` as a real process: it starts, migrates, serves health, messages and prompts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_serves_over_http(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path),
           "SHIPDRAFT_API_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "shipdraft.cli", "api"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the API did not come up"
            time.sleep(0.3)
        assert httpx.get(f"{base}/messages", timeout=5).json() == []
        prompts = httpx.get(f"{base}/prompts", timeout=5).json()
        assert any("draft-v1" in str(p) for p in prompts)
        assert httpx.get(f"{base}/openapi.json", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
