"""The one command that builds the models the repository ships: ``python -m engines.build_models``.

Every engine whose module offers ``shipped_requests()`` (see :class:`engines.core.lifecycle.ModelEngine`)
lists its offline defaults, each trained on the bundled sample; this trains them and writes them under
``assets/models/<engine>/<key>/`` with a manifest (sha256 of every file, library versions, card). Run it
after changing an engine's model, its defaults or a pinned library; ``--check`` only verifies that every
shipped model is present and intact (the tests run it too).

It runs offline on purpose (``GALLERY_OFFLINE=1``, no data directory, an empty cache), so a machine that
holds the real datasets still ships models of the bundled samples only.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from typing import Any

from engines.core import threads


def engines_with_shipped(only: list[str] | None = None) -> dict[str, Any]:
    """Registry key -> engine module, for the engines that ship models (``only``: those keys).

    A demo whose stack is not installed (``Demo.needs``) is left out, with one info line in the log.
    """
    from engines.core import stacks
    from engines.registry import DEMOS

    found = {}
    for demo in DEMOS:
        if only and demo.key not in only:
            continue
        lacking = [stack for stack in demo.needs if not stacks.has(stack)]
        if lacking:  # a reduced install: its engine cannot even be imported here
            stacks.log_skipped(lacking[0], f"The shipped models of {demo.title}")
            continue
        module = importlib.import_module(demo.engine)
        if hasattr(module, "shipped_requests"):
            found[demo.key] = module
    return found


def shipped_requests(only: list[str] | None = None) -> list[Any]:
    """Every shipped model's request, in gallery order (the warm-up loads them in this order)."""
    return [request for module in engines_with_shipped(only).values() for request in module.shipped_requests()]


def check(only: list[str] | None = None) -> list[str]:
    """Problems with the shipped models (missing, corrupted or stale), one line each; empty when all is well."""
    from engines.core.lifecycle import ShippedStore

    store, problems = ShippedStore(), []
    for key, module in engines_with_shipped(only).items():
        for request in module.shipped_requests():
            if store.verify(request.engine, request.shipped_key) is None:
                problems.append(f"{key}: {request.label or request.title} is missing, corrupted or stale")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Build (or with ``--check`` verify) the shipped models; prints one line per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="registry keys of the demos to build (default: all)")
    parser.add_argument("--check", action="store_true", help="verify instead of building; exit 1 on a problem")
    args = parser.parse_args(argv)
    os.environ["GALLERY_OFFLINE"] = "1"
    os.environ.pop("GALLERY_DATA_DIR", None)
    os.environ["GALLERY_CACHE_DIR"] = tempfile.mkdtemp(prefix="build-models-")
    threads.configure()
    if args.check:
        problems = check(args.only)
        print("\n".join(problems) or "Every shipped model is present and verified.")
        return 1 if problems else 0
    from engines.core.lifecycle import build_shipped

    for key, module in engines_with_shipped(args.only).items():
        started = time.perf_counter()
        folders = build_shipped(module.shipped_requests())
        size = sum(f.stat().st_size for folder in folders for f in folder.rglob("*") if f.is_file())
        print(f"{key}: {len(folders)} model(s), {size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
