"""message search: FTS5 on SQLite, Italian and English GIN indexes on PostgreSQL

The objects here are outside the models (a virtual table and triggers, expression
indexes): ``dialoga.inbox.search`` queries them and names them for schema comparisons.
The accent folding (``translate``) must stay identical to ``search.FOLD_FROM/FOLD_TO``
or PostgreSQL stops using the indexes (a test checks the plan).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FOLD_FROM = "àáâãäåèéêëìíîïòóôõöùúûüýÿçñÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝŸÇÑ"
FOLD_TO = "aaaaaaeeeeiiiiooooouuuuyycnAAAAAAEEEEIIIIOOOOOUUUUYYCN"
DOCUMENT = f"translate(COALESCE(subject, '') || ' ' || text, '{FOLD_FROM}', '{FOLD_TO}')"

SQLITE_UPGRADE = (
    """CREATE VIRTUAL TABLE message_fts USING fts5(
        text, subject, content='message', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
        INSERT INTO message_fts(rowid, text, subject) VALUES (new.id, new.text, new.subject);
    END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
        INSERT INTO message_fts(message_fts, rowid, text, subject)
        VALUES ('delete', old.id, old.text, old.subject);
    END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF text, subject ON message BEGIN
        INSERT INTO message_fts(message_fts, rowid, text, subject)
        VALUES ('delete', old.id, old.text, old.subject);
        INSERT INTO message_fts(rowid, text, subject) VALUES (new.id, new.text, new.subject);
    END""",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER message_fts_update",
    "DROP TRIGGER message_fts_delete",
    "DROP TRIGGER message_fts_insert",
    "DROP TABLE message_fts",
)
POSTGRESQL_UPGRADE = tuple(
    f"CREATE INDEX ix_message_search_{config} ON message "
    f"USING gin (to_tsvector('{config}'::regconfig, {DOCUMENT}))"
    for config in ("italian", "english")
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX ix_message_search_english",
    "DROP INDEX ix_message_search_italian",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
