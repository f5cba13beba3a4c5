"""The demo's routing rules: angry complaints jump the queue, purchase enquiries go to
Luca, so the rules page shows what rules are for and new messages are routed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dialoga.inbox.routing import PRIORITIES
from dialoga.inbox.routing_actions import RuleDraft, check_rule, do_create_rule, label_named


def add_rules(session: Session, workspace_id: int, sales_user_id: int) -> None:
    """Two rules through the ordinary checks and actions."""
    urgent = label_named(session, workspace_id, "urgente")
    drafts = (
        RuleDraft(
            "Reclami arrabbiati",
            intents=("complaint",),
            sentiments=("negative",),
            label_id=urgent,
            priority=PRIORITIES.index("urgent"),
        ),
        RuleDraft(
            "Richieste d'acquisto a Luca",
            intents=("lead",),
            priority=PRIORITIES.index("high"),
            assignee_id=sales_user_id,
        ),
    )
    for draft in drafts:
        do_create_rule(
            session, workspace_id, check_rule(session, workspace_id, draft), actor="demo"
        )
