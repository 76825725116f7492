"""footfall: self-hosted website visitor identification."""

__version__ = "0.1.0"
