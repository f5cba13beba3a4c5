"""Bluesky (AT Protocol): mentions, replies and quotes in, replies out, followers swept daily."""
