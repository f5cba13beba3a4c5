"""Audience: follower profiles, their audit and the brand's ambassadors."""
