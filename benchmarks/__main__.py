"""Run the benchmarks named on the command line (all of them by default)."""

from __future__ import annotations

import argparse
import importlib

SUITES = ["foundation"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], default=SUITES)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    args = parser.parse_args()
    for name in args.suites or SUITES:
        module = importlib.import_module(f"benchmarks.{name}")
        module.run(quick=args.quick)


main()
