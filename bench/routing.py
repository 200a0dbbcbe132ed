"""Routing benchmark, runnable as ``python bench/routing.py [--agents N ...]``."""

from __future__ import annotations

import sys

from trunkline.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "routing", *sys.argv[1:]]))
