"""Command line: ``python -m benchmarks [ENGINE ...] --data-dir DIR [--json PATH] [--seeds N]``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from benchmarks.common import Skip, format_table
from engines.registry import DEMOS

# Registry key -> benchmark module: a demo's benchmark is benchmarks/<key>.py, found automatically.
BENCHMARKS = {
    d.key: f"benchmarks.{d.key}" for d in DEMOS if importlib.util.find_spec(f"benchmarks.{d.key}") is not None
}
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, print the table, optionally write JSON records."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "engines", nargs="*", help=f"registry keys (default: all with a benchmark: {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder with the real datasets")
    parser.add_argument("--json", type=Path, help="write the records here")
    parser.add_argument("--seeds", type=int, default=10, help="random splits to average over")
    args = parser.parse_args(argv)
    keys = args.engines or list(BENCHMARKS)
    known = {d.key for d in DEMOS}
    unknown = [k for k in keys if k not in BENCHMARKS]
    if unknown:
        parser.error(
            f"no benchmark for {', '.join(unknown)}; available: {', '.join(BENCHMARKS)} (demos: {', '.join(sorted(known))})"
        )
    records, anchors, skipped = [], [], []
    for key in keys:
        module = importlib.import_module(BENCHMARKS[key])
        try:
            got, anchor = module.run(args.data_dir, seeds=args.seeds, progress=lambda m: print(m, file=sys.stderr))
        except Skip as reason:
            skipped.append(f"{key}: skipped ({reason})")
            continue
        records += got
        anchors += anchor
    print(format_table(records, anchors))
    for line in skipped:
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.as_dict() for r in records], indent=1))
        print(f"wrote {len(records)} records to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
