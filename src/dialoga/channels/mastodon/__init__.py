"""The Mastodon connector: an account's mentions, replies and direct messages, its
followers, and replies sent back through the REST API v1."""
