"""Errors a user can act on: the CLI prints them as one line and exits non-zero."""


class DcsError(Exception):
    """A problem with the input or the environment, explained in one line."""


class ArchiveWriteError(DcsError):
    """Something could not be written into the archive (a full disk, a read-only or failing
    file system): a crawl stops at the first one (see crawler.failstop)."""
