"""``python -m bench [section ...] [--scale S] [--out PATH]``: run the benchmark sections."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import harness


def main(argv: list[str] | None = None) -> int:
    available = harness.discover()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmark sections and write their results as JSON.",
    )
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="section",
        help=f"sections to run (default: all): {', '.join(available)}",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply data sizes by this (0.01 for a quick try; default 1)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=harness.REPO_ROOT / ".bench" / "latest.json",
        help="where to write the results (default .bench/latest.json)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in available]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    if not 0 < args.scale <= 10:
        parser.error("--scale must be more than 0 and at most 10")
    results = harness.run_sections(args.sections or list(available), scale=args.scale)
    text = json.dumps(results, indent=2, default=str)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(f"written to {args.out}", file=sys.stderr)
    failed = [
        name for name, value in results.items() if isinstance(value, dict) and "error" in value
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
