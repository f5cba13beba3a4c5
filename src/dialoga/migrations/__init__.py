"""Alembic migrations of Dialoga's schema."""
