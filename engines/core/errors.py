"""Errors that engines raise at their boundary."""


class InputError(ValueError):
    """Bad input from a user, a file or a form value.

    The message says what was wrong and how to fix it; pages show it with
    ``st.error`` and never a traceback.
    """


class SourceError(RuntimeError):
    """A dataset or model could not be fetched or failed verification."""
