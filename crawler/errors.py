"""Errors a user can act on: the CLI prints them as one line and exits non-zero."""


class DcsError(Exception):
    """A problem with the input or the environment, explained in one line."""
