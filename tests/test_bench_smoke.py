"""benchmarks/bench.py runs end to end (quick mode, tiny image): no timings are checked."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def load_bench():
    """benchmarks/bench.py as a module (it is a script, not part of the package)."""
    if "imgfilter_bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("imgfilter_bench", BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["imgfilter_bench"]


def cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


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
    assert "load average" in text and "logical cores" in text and "Measured: 20" in text
    head14 = "| case | threads | imgfilter ms | peer | peer ms | ratio | target | met? |"
    head16 = "| case | peer | ratio, default threads | ratio, 1 thread | target | met? |"
    assert head14 in text and head16 in text
    for section in ("Filters on arrays", "Whole process", "Start-up", "Issue 16"):
        assert section in text
    lines = text.splitlines()
    i16 = next(i for i, line in enumerate(lines) if line.startswith("## Issue 16"))
    table14 = [r for r in lines[:i16] if r.startswith("| ") and not r.startswith(("| case", "| ---"))]
    table16 = [r for r in lines[i16:] if r.startswith("| ") and not r.startswith(("| case", "| ---"))]
    assert table14 and table16
    # Every issue-14 row has its own time (and a ratio, but for start-up).
    for row in table14:
        assert float(cells(row)[2]) >= 0, row
    # Every issue-16 row has a ratio and a comparison of the two results, or says its peer is missing.
    for row in table16:
        _case, peer, ratio, _, target, met, times, results = cells(row)
        if "(not installed)" in peer:
            assert not ratio and not times, row
            continue
        assert float(ratio) >= 0 and results, row
        assert met in ("yes", "**no**") if target else not met, row
    families = " ".join(cells(r)[0] for r in table16)
    for name in ("percentile", "minimum", "opening", "unsharp", "canny", "gaussian_laplace", "scharr"):
        assert name in families
    for name in ("local_std", "local_range", "guided", "cubic", "bilinear"):
        assert name in families
    assert text.strip() in run.stdout  # the same report goes to stdout


def test_budget_stops_the_rounds_and_one_thread_rows_share_single_threaded_peers():
    bench = load_bench()

    def nap() -> float:
        time.sleep(0.05)
        return 0.05

    cases = [bench.Case("i16", "x", "SciPy y", None, nap, nap, threaded_peer=False, raw=(nap, nap))]
    cases.append(bench.Case("i16", "x", "SciPy y", None, nap, nap, threads="1", threaded_peer=False))
    bench.share_peer_times(cases)
    assert cases[1].theirs is None and cases[1].peer_of is cases[0]
    rounds = bench.run(cases, repeat=50, budget=0.3, progress=False)
    assert 1 <= rounds < 50
    assert cases[1].ratio == cases[1].best[0] / cases[0].best[1]
    assert bench.run(cases, repeat=2, budget=0, progress=False) == 2


def test_agreement_words():
    bench = load_bench()
    a = np.array([[1, 2], [3, 4]], np.uint8)
    assert bench.agreement(a, a.astype(np.float32) + 0.2) == "equal, peer rounded"
    assert bench.agreement(a, a + 1) == "max diff 1"
    assert bench.agreement(a > 1, (a > 2).astype(np.uint8) * 255) == "25.00% of pixels differ"
