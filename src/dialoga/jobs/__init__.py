"""Background jobs: polling live channels and sending replies, on Huey (SQLite or Redis)."""
