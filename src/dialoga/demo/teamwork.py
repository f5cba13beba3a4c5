"""The team's own work in the demo: a second member, saved replies, labels, notes and a
few assignments, so the inbox shows what a working day looks like.

Everything goes through the ordinary actions; choices come from the seeded generator.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dialoga.accounts.actions import do_add_member, do_create_user
from dialoga.accounts.models import User
from dialoga.contacts.models import Contact, Identity
from dialoga.demo.rules import add_rules
from dialoga.inbox.models import Conversation
from dialoga.inbox.work import do_add_label, do_add_note, do_assign, do_save_reply

AGENT_EMAIL = "luca@caffeaurora.it"
AGENT_NAME = "Luca"
SAVED_REPLIES = (
    (
        "Spedizioni estero",
        "Ciao {first_name}, spediamo in tutta Europa in 3-5 giorni lavorativi; "
        "dal Regno Unito possono esserci dazi doganali. Scrivici pure per ogni dubbio! {agent}",
        "it",
    ),
    (
        "Grazie per la recensione",
        "Grazie di cuore {first_name}! Fa piacere sapere che il caffè ti è piaciuto. {agent}",
        "it",
    ),
    (
        "Shipping abroad",
        "Hi {first_name}, we ship across Europe in 3-5 working days; orders to the UK may "
        "pay customs duties. Just ask if anything is unclear! {agent}",
        "en",
    ),
)
LABELS = ("ordine", "spedizione", "wholesale", "idea")


def add_teamwork(
    session: Session,
    workspace_id: int,
    owner_id: int,
    password: str,
    rng: random.Random,
    now: datetime,
) -> None:
    """A colleague, saved replies, labels, notes and assignments on open conversations,
    and the routing rules."""
    agent = session.scalar(select(User).where(User.email == AGENT_EMAIL))
    if agent is None:
        agent = do_create_user(session, AGENT_EMAIL, AGENT_NAME, password, actor="demo")
    do_add_member(session, workspace_id, agent.id, "agent", actor="demo")
    for title, body, language in SAVED_REPLIES:
        do_save_reply(session, workspace_id, title, body, language)
    open_ids = session.scalars(
        select(Conversation.id)
        .where(Conversation.workspace_id == workspace_id, Conversation.status == "open")
        .order_by(Conversation.id)
    ).all()
    for conversation_id in rng.sample(list(open_ids), k=min(8, len(open_ids))):
        do_add_label(session, workspace_id, conversation_id, rng.choice(LABELS))
        do_assign(session, conversation_id, rng.choice((owner_id, agent.id)))
    _note_the_regulars(session, workspace_id, owner_id, now)
    add_rules(session, workspace_id, agent.id)


def _note_the_regulars(session: Session, workspace_id: int, author_id: int, now: datetime) -> None:
    """A note about each person who writes from several networks: the team knows them."""
    regulars = session.scalars(
        select(Contact.id)
        .join(Identity, Identity.contact_id == Contact.id)
        .where(Contact.workspace_id == workspace_id)
        .group_by(Contact.id)
        .having(func.count(Identity.id) > 1)
        .order_by(Contact.id)
        .limit(3)
    ).all()
    for contact_id in regulars:
        do_add_note(
            session,
            workspace_id,
            author_id,
            "Cliente affezionato: ci segue su più canali. Rispondere sempre per nome.",
            contact_id=contact_id,
            now=now,
        )
