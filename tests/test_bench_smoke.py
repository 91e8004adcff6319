"""benchmarks/bench.py runs end to end (quick mode, tiny image): no timings are checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cv2")

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def test_quick_run_writes_the_tables(tmp_path):
    out = tmp_path / "performance.md"
    env = dict(os.environ, TMPDIR=str(tmp_path))  # the cached photos go here, not in a shared folder
    args = ["--quick", "--repeat", "1", "--size", "64x36", "--write", "--output", str(out)]
    run = subprocess.run(
        [sys.executable, str(BENCH), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert "python benchmarks/bench.py --write" in text
    assert "| case | threads | imgfilter ms | peer | peer ms | ratio | target | met? |" in text
    for section in ("Filters on arrays", "Whole process", "Start-up"):
        assert section in text
    # Every table row has its two times and a ratio (or, for start-up, its own time).
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| case")]
    rows = [r for r in rows if not r.startswith("| ---")]
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[2]) >= 0, row
    assert text.strip() in run.stdout  # the same report goes to stdout
