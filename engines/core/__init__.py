"""What every engine shares: errors, settings, data and model sources, artifacts, progress."""

from engines.core.errors import InputError
from engines.core.progress import Progress, null_progress, scaled

__all__ = ["InputError", "Progress", "null_progress", "scaled"]
