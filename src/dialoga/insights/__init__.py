"""Insights: append-only facts about conversations, and the figures built from them."""
