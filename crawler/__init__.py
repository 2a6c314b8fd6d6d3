"""dcs-archiver: an archival crawler for dangcongsan.vn."""

__version__ = "0.1.0"
