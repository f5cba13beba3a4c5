"""File importers: each reads one file format and yields normalized messages and profiles."""
