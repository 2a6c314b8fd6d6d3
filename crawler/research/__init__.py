"""Research tools over an archive folder: full-text search, the list of edits and takedowns,
word-level diffs between versions of an article, and a dataset export.

Everything here reads the archive (text files and sidecars, the state store opened
read-only) and writes nothing in it but the search index kept beside it.
"""
