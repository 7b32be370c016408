"""A longer schemathesis run over /api/v1 than the test suite's: more generated requests per operation.

python benchmarks/fuzz_api.py [--examples 200]

It runs tests/test_api_schema.py with LMREVIEW_TEST_API_EXAMPLES set, and prints how long it took against the
suite's own bound (8 examples) measured in the same run, so the ratio says what the longer run costs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(examples: int) -> float:
    env = {**os.environ, "LMREVIEW_TEST_API_EXAMPLES": str(examples), "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_api_schema.py", "-q", "-x"], cwd=ROOT, env=env, check=False
    )
    if done.returncode != 0:
        sys.exit(done.returncode)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    args = parser.parse_args()
    anchor = run(8)
    longer = run(args.examples)
    print(f"schemathesis over /api/v1: {args.examples} examples per operation {longer:.1f} s")
    print(f"the suite's 8 examples per operation (anchor, same run): {anchor:.1f} s")
    print(f"ratio {longer / anchor:.1f}; no operation answered 5xx or against its schema")


if __name__ == "__main__":
    main()
