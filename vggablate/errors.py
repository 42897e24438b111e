"""The one exception type for bad user input; the CLI turns it into a one-line error and exit code 2."""


class UsageError(ValueError):
    """Bad user input: an unknown arch, a malformed cfg, an impossible setting."""
