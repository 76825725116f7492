"""History imports: `footfall import` (docs/import.md)."""
