"""Quality and speed of every engine on real data, next to published anchors and peer libraries.

Run ``python -m benchmarks [ENGINE ...] --data-dir ../shared/data --json results.json``.
"""
