"""`lmreview --help` from a cold process, against `python -c pass` in the same run.

python benchmarks/bench_help.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _portfolio_data import env, machine, median, row, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--scale", action="store_true", help="no effect: --help does not depend on the data")
    args = parser.parse_args()

    def run(*argv: str) -> None:
        subprocess.run([sys.executable, *argv], check=True, capture_output=True, env=env())

    ours = timed(lambda: run("-c", "from lmreview.cli.main import main; main()", "--help"), args.repeat)
    anchor = timed(lambda: run("-c", "pass"), args.repeat)
    print(f"lmreview --help, cold process; {machine()}; median of {args.repeat}")
    print(row("lmreview --help (python -c pass)", median(ours), median(anchor)))


if __name__ == "__main__":
    main()
