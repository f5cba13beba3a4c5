"""Channels: connected networks and file importers, all ending in normalized messages."""
