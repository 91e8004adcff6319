"""Canny, Gaussian derivatives and gradients: a shortcut for ``bench.py --only canny,deriv,gradient --no-process``.

The rows, their peers and targets live in bench.py (one interleaved runner);
this only selects them. Any bench.py option may follow, e.g.::

    python3 benchmarks/bench_canny.py                      # default threads and one thread
    python3 benchmarks/bench_canny.py --repeat 9 --no-single
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import main

if __name__ == "__main__":
    sys.exit(main(["--only", "canny,deriv,gradient", "--no-process", *sys.argv[1:]]))
