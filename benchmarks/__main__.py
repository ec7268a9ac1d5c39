"""Run the benchmarks named on the command line (all of them by default)."""

from __future__ import annotations

import argparse
import importlib

SUITES = ["foundation", "http_api", "load", "campaigns", "memory"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    args = parser.parse_args()
    unknown = sorted(set(args.suites) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    for name in args.suites or SUITES:
        module = importlib.import_module(f"benchmarks.{name}")
        module.run(quick=args.quick)


main()
