"""Image classifier: a digits CNN (shipped, retrained on demand), transfer learning on pretrained features.

Importing the package loads no torch: the lifecycle names below import their module when called.
"""

from __future__ import annotations

from typing import Any

ENGINE = "imageclf"


def request(config: Any) -> Any:
    """The digits network for ``config`` as a model request (see ``engines.imageclf.digits_store``)."""
    from engines.imageclf import digits_store

    return digits_store.request(config)


def shipped_requests() -> list[Any]:
    """The digits network the repository ships (``python -m engines.build_models --only imageclf``)."""
    from engines.imageclf import digits_store

    return digits_store.shipped_requests()


__all__ = ["ENGINE", "request", "shipped_requests"]
