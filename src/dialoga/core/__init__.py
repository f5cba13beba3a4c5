"""Core services every capability stands on: settings, database, time, errors."""
