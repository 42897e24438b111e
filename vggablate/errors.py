"""The CLI's one-line errors: bad user input (exit code 2, nothing done) and a run that had to stop (exit code 1)."""


class UsageError(ValueError):
    """Bad user input: an unknown arch, a malformed cfg, an impossible setting."""


class RunError(RuntimeError):
    """A run that had to stop part-way (its journal could not be written): one line, exit code 1, resumable."""
