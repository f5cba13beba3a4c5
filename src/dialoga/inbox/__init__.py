"""Inbox: conversations and messages from every channel, and how they are answered."""
