"""Rank filters and morphology (percentile, rank_filter, minimum/maximum, opening/closing): a shortcut for ``bench.py --only rank,morph --no-process``.

The rows, their peers and targets live in bench.py (one interleaved runner);
this only selects them. Any bench.py option may follow, e.g.::

    python3 benchmarks/bench_rank.py                      # default threads and one thread
    python3 benchmarks/bench_rank.py --repeat 9 --no-single
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import main

if __name__ == "__main__":
    sys.exit(main(["--only", "rank,morph", "--no-process", *sys.argv[1:]]))
