"""Dialoga: a self-hosted, relationship-first social media engagement platform."""

__version__ = "0.1.0"
