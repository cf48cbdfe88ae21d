"""``shipdraft eval drafting`` on the demo inbox: the issue's three figures, as a CI gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_eval_drafting_meets_its_targets(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    env = {**os.environ, "SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "shipdraft.cli", "eval", "drafting", "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["cases"] >= 40
    assert report["template_pass_unchanged"] == 1.0, report["template_failures"]
    assert report["catch_rate"] == 1.0, report["missed"]
    assert report["malicious_total"] >= 7 * report["cases"]
    assert report["prompt_tokens_median"] <= 2500
