"""Full-text search over messages, for the queue's search box.

SQLite matches an FTS5 table kept current by triggers (migration 0004); PostgreSQL
matches two GIN expression indexes, Italian and English, and a message is found when
either configuration matches. Accents never matter: FTS5 removes them, and on
PostgreSQL both the indexed text and the query are folded with the same table.

What people type is hostile: it is cut into words (letters and digits only), so no
search syntax of either database ever reaches it. SQLite matches each word as a prefix,
PostgreSQL each word's stem; every word must match.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Select, column, func, literal_column, or_, select, table
from sqlalchemy.orm import Session

from dialoga.inbox.models import Message

# Identical to migration 0004's copy: the indexes are built on this very expression.
FOLD_FROM = "àáâãäåèéêëìíîïòóôõöùúûüýÿçñÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝŸÇÑ"
FOLD_TO = "aaaaaaeeeeiiiiooooouuuuyycnAAAAAAEEEEIIIIOOOOOUUUUYYCN"
CONFIGURATIONS = ("italian", "english")
SEARCH_OBJECTS = re.compile(r"^(message_fts(_\w+)?|ix_message_search_\w+)$")

MAX_TERMS = 16
MAX_TERM_LENGTH = 64
_WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)
_FTS = table("message_fts", column("rowid"), column("message_fts"))


def is_search_object(name: str | None) -> bool:
    """Whether a schema object is one of the search objects the models do not describe."""
    return name is not None and SEARCH_OBJECTS.match(name) is not None


def search_terms(query: str | None) -> list[str]:
    """The words of what someone typed: letters and digits, at most ``MAX_TERMS``."""
    if not query:
        return []
    words = _WORD.findall(unicodedata.normalize("NFKC", query))
    return [word[:MAX_TERM_LENGTH] for word in words[:MAX_TERMS]]


def fts5_expression(terms: list[str]) -> str:
    """An FTS5 query where every term is a quoted prefix: ``"ciao"* "mondo"*``."""
    return " ".join(f'"{term}"*' for term in terms)


def matching_conversation_ids(
    session: Session, workspace_id: int, query: str | None
) -> Select[int] | None:
    """The ids of this workspace's conversations with a message matching ``query``, as a
    subquery; ``None`` when the query has no words (no filter)."""
    terms = search_terms(query)
    if not terms:
        return None
    if session.get_bind().dialect.name == "postgresql":
        matched = _postgresql_match(terms)
    else:
        found = select(_FTS.c.rowid).where(_FTS.c.message_fts.match(fts5_expression(terms)))
        matched = Message.id.in_(found)
    # A common table expression, so the matches are found once per statement (the queue
    # names them once per status) and through the search indexes: PostgreSQL, left to
    # itself, may instead test each conversation's messages in queue order, computing
    # their text vectors, for seconds when few match. SQLite materializes a CTE named
    # more than once by itself.
    matches = (
        select(Message.conversation_id)
        .where(Message.workspace_id == workspace_id, matched)
        .cte("matching_messages")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return select(matches.c.conversation_id)


def _postgresql_match(terms: list[str]) -> ColumnElement[bool]:
    """The message matches the words in Italian or in English (each through its index)."""
    folded = " ".join(terms).translate(_FOLD)
    document = (
        "translate(COALESCE(message.subject, '') || ' ' || message.text, "
        f"'{FOLD_FROM}', '{FOLD_TO}')"
    )
    return or_(
        *(
            literal_column(f"to_tsvector('{config}'::regconfig, {document})").op("@@")(
                func.plainto_tsquery(literal_column(f"'{config}'::regconfig"), folded)
            )
            for config in CONFIGURATIONS
        )
    )
