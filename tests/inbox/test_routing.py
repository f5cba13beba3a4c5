"""Routing rules: which rules a message meets (conditions, keywords, order, stop), what
applying them writes (labels, assignees, in a constant number of statements), and that
only a workspace's own rules, labels and members ever take part."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dialoga.accounts.actions import do_add_member, do_create_user, do_create_workspace
from dialoga.accounts.models import Workspace
from dialoga.channels.models import Channel
from dialoga.core.db import transaction
from dialoga.core.errors import NotFoundError, ValidationError
from dialoga.inbox.actions import ingest
from dialoga.inbox.models import Conversation, ConversationLabel, Label, RoutingRule
from dialoga.inbox.routing import (
    CompiledRule,
    RoutedMessage,
    RoutingOutcome,
    apply_routing,
    keyword_pattern,
    route,
    rule_views,
)
from dialoga.inbox.routing_actions import (
    MAX_RULES,
    RuleDraft,
    check_rule,
    check_rule_count,
    do_create_rule,
    do_delete_rule,
    do_enable_rule,
    do_move_rule,
    label_named,
    rule_of_workspace,
)
from dialoga.inbox.work import do_assign, do_unassign_member
from dialoga.runtime import Runtime

from .cast import GIULIA, MARCO, make_channel, msg, statements
from .reading_data import KeywordReader

COMPLAINT = RoutedMessage(1, 10, "Il pacco è arrivato rotto", "it", "negative", "complaint")


def _message(text: str = "ciao", **fields: object) -> RoutedMessage:
    values: dict[str, object] = {
        "conversation_id": 1,
        "channel_id": 10,
        "language": "it",
        "sentiment": "neutral",
        "intent": "question",
    }
    values.update(fields)
    return RoutedMessage(text=text, **values)  # type: ignore[arg-type]


# --- evaluation -------------------------------------------------------------------------


def test_every_condition_must_hold_and_each_lists_values_any_of_which_will_do() -> None:
    rule = CompiledRule(
        1,
        intents=frozenset({"complaint", "question"}),
        sentiments=frozenset({"negative"}),
        label_id=7,
    )

    assert route([rule], COMPLAINT).label_ids == (7,)
    assert route([rule], _message(intent="question", sentiment="negative")).label_ids == (7,)
    assert route([rule], _message(intent="complaint", sentiment="positive")) == RoutingOutcome()
    assert route([rule], _message(intent="praise", sentiment="negative")) == RoutingOutcome()


def test_language_and_channel_conditions() -> None:
    rule = CompiledRule(1, languages=frozenset({"en"}), channel_ids=frozenset({10, 11}), priority=2)

    assert route([rule], _message(language="en", channel_id=11)).priority == 2
    assert route([rule], _message(language="it", channel_id=11)).priority is None
    assert route([rule], _message(language="en", channel_id=12)).priority is None
    assert route([rule], _message(language=None, channel_id=10)).priority is None


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Voglio il RIMBORSO!", True),
        ("chiedo un rimborsò subito", True),  # accents aside
        ("Rimborso.", True),
        ("il rimborsone non c'entra", False),  # whole words only
        ("prerimborso", False),
        ("Il prodotto non   FUNZIONA più", True),  # a phrase, blanks aside
        ("non lo uso, funziona", False),
        ("Please REFUND me", True),
        ("refunded already", False),
        ("Perché è così? Perche no", True),  # an accented keyword matches plain text too
    ],
)
def test_keywords_match_whole_words_case_and_accents_aside(text: str, matches: bool) -> None:
    pattern = keyword_pattern(["rimborso", "non funziona", "refund", "perché"])
    rule = CompiledRule(1, keywords=pattern, label_id=3)

    assert (route([rule], _message(text)).label_ids == (3,)) is matches


def test_keywords_that_are_only_blanks_make_no_pattern() -> None:
    assert keyword_pattern(["", "   "]) is None


def test_all_matching_rules_apply_in_order_and_earlier_values_are_kept() -> None:
    rules = [
        CompiledRule(1, intents=frozenset({"complaint"}), priority=3, label_id=1),
        CompiledRule(2, sentiments=frozenset({"negative"}), priority=1, assignee_id=8, label_id=2),
        CompiledRule(3, intents=frozenset({"praise"}), label_id=3),
        CompiledRule(4, languages=frozenset({"it"}), assignee_id=9, label_id=1),
    ]

    outcome = route(rules, COMPLAINT)

    assert outcome == RoutingOutcome(
        label_ids=(1, 2), priority=3, assignee_id=8, rule_ids=(1, 2, 4)
    )


def test_a_matching_stop_rule_ends_the_evaluation_and_a_missed_one_does_not() -> None:
    rules = [
        CompiledRule(1, intents=frozenset({"praise"}), label_id=1, stop=True),
        CompiledRule(2, intents=frozenset({"complaint"}), label_id=2, stop=True),
        CompiledRule(3, sentiments=frozenset({"negative"}), label_id=3, priority=3),
    ]

    outcome = route(rules, COMPLAINT)

    assert outcome.label_ids == (2,)
    assert outcome.priority is None
    assert outcome.rule_ids == (2,)


def test_outcomes_of_one_conversation_combine() -> None:
    first = RoutingOutcome((1,), 1, None, (1,))
    later = RoutingOutcome((2, 1), 3, 5, (2,))

    assert first.merged(later) == RoutingOutcome((1, 2), 3, 5, (1, 2))
    assert later.merged(first).assignee_id == 5


# --- checks -----------------------------------------------------------------------------


@pytest.fixture
def people(sessions: sessionmaker[Session], workspace: Workspace) -> dict[str, int]:
    """Members of the workspace by role, and someone of another workspace."""
    ids = {}
    with transaction(sessions) as session:
        for role in ("owner", "agent", "analyst"):
            user = do_create_user(session, f"{role}@acme.it", role.title(), "x" * 12, actor="t")
            do_add_member(session, workspace.id, user.id, role, actor="t")
            ids[role] = user.id
        rival = do_create_workspace(session, "rival", "Rival", actor="t")
        stranger = do_create_user(session, "s@rival.it", "Stranger", "x" * 12, actor="t")
        do_add_member(session, rival.id, stranger.id, "agent", actor="t")
        ids["stranger"] = stranger.id
        ids["rival"] = rival.id
        ids["rival_label"] = label_named(session, rival.id, "rival-label")
    return ids


def _refusal(sessions: sessionmaker[Session], workspace_id: int, draft: RuleDraft) -> str | None:
    with sessions() as session, pytest.raises(ValidationError) as error:
        check_rule(session, workspace_id, draft)
    return error.value.code


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        (RuleDraft("x", intents=("angry",), priority=1), "rule_unknown_intent"),
        (RuleDraft("x", sentiments=("furious",), priority=1), "rule_unknown_sentiment"),
        (RuleDraft("x", languages=("ita",), priority=1), "rule_language_code"),
        (RuleDraft("x", languages=("i1",), priority=1), "rule_language_code"),
        (
            RuleDraft("x", keywords=tuple(f"k{i}" for i in range(21)), priority=1),
            "rule_too_many_keywords",
        ),
        (RuleDraft("x", keywords=("a" * 61,), priority=1), "rule_keyword_too_long"),
        (RuleDraft("x", priority=1), "rule_no_condition"),
        (RuleDraft("x", keywords=(" ", ""), priority=1), "rule_no_condition"),
        (RuleDraft("x", intents=("lead",)), "rule_no_action"),
        (RuleDraft("x", intents=("lead",), priority=4), "rule_unknown_priority"),
        (RuleDraft("  ", intents=("lead",), priority=1), "rule_name_length"),
        (RuleDraft("n" * 121, intents=("lead",), priority=1), "rule_name_length"),
        (RuleDraft("x", channel_ids=(999_999,), priority=1), "rule_unknown_channel"),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_code(
    sessions: sessionmaker[Session], workspace: Workspace, draft: RuleDraft, code: str
) -> None:
    assert _refusal(sessions, workspace.id, draft) == code


def test_a_rule_takes_only_its_workspace_labels_members_and_channels(
    sessions: sessionmaker[Session], workspace: Workspace, people: dict[str, int]
) -> None:
    rival_channel = make_channel(sessions, _rival(sessions, people), "Their X", "twitter")
    lead = RuleDraft("x", intents=("lead",))

    assert _refusal(sessions, workspace.id, _with(lead, label_id=people["rival_label"])) == (
        "rule_unknown_label"
    )
    assert _refusal(sessions, workspace.id, _with(lead, assignee_id=people["stranger"])) == (
        "assignee_not_member"
    )
    assert _refusal(sessions, workspace.id, _with(lead, assignee_id=people["analyst"])) == (
        "assignee_cannot_answer"
    )
    assert _refusal(
        sessions, workspace.id, _with(lead, priority=1, channel_ids=(rival_channel.id,))
    ) == ("rule_unknown_channel")


def test_a_good_rule_comes_back_cleaned(
    sessions: sessionmaker[Session], workspace: Workspace, people: dict[str, int]
) -> None:
    draft = RuleDraft(
        "  Lead   da vendere ",
        intents=("lead", "lead"),
        languages=(" IT", "en"),
        keywords=(" prezzo ", "listino  prezzi", "prezzo", " "),
        assignee_id=people["agent"],
    )
    with sessions() as session:
        cleaned = check_rule(session, workspace.id, draft)

    assert cleaned.name == "Lead da vendere"
    assert cleaned.intents == ("lead",)
    assert cleaned.languages == ("it", "en")
    assert cleaned.keywords == ("prezzo", "listino prezzi")
    assert cleaned.conditions == {
        "intents": ["lead"],
        "languages": ["it", "en"],
        "keywords": ["prezzo", "listino prezzi"],
    }


def test_a_workspace_has_at_most_a_hundred_rules(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        for i in range(MAX_RULES):
            do_create_rule(
                session, workspace.id, RuleDraft(f"r{i}", intents=("spam",), priority=0), actor="t"
            )
        with pytest.raises(ValidationError) as error:
            check_rule_count(session, workspace.id)
    assert error.value.code == "rule_limit"


# --- changing rules ---------------------------------------------------------------------


def _names(sessions: sessionmaker[Session], workspace_id: int) -> list[str]:
    with sessions() as session:
        return [view.name for view in rule_views(session, workspace_id)]


def test_rules_move_up_and_down_and_stay_put_at_either_end(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        ids = [
            do_create_rule(
                session, workspace.id, RuleDraft(name, intents=("spam",), priority=0), actor="t"
            )
            for name in ("a", "b", "c")
        ]
    moves = [
        (ids[2], "up", "acb"),
        (ids[2], "up", "cab"),
        (ids[2], "up", "cab"),
        (ids[1], "down", "cab"),
        (ids[0], "down", "cba"),
    ]
    for rule_id, direction, expected in moves:
        with transaction(sessions) as session:
            do_move_rule(
                session, rule_of_workspace(session, workspace.id, rule_id), direction, actor="t"
            )
        assert "".join(_names(sessions, workspace.id)) == expected


def test_a_deleted_rule_leaves_the_others_in_order(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    with transaction(sessions) as session:
        ids = [
            do_create_rule(
                session, workspace.id, RuleDraft(name, intents=("spam",), priority=0), actor="t"
            )
            for name in ("a", "b", "c")
        ]
        do_delete_rule(session, rule_of_workspace(session, workspace.id, ids[1]), actor="t")
        created = do_create_rule(
            session, workspace.id, RuleDraft("d", intents=("spam",), priority=0), actor="t"
        )

    assert _names(sessions, workspace.id) == ["a", "c", "d"]
    assert created not in ids


def test_another_workspace_rule_is_not_found(
    sessions: sessionmaker[Session], workspace: Workspace, people: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        theirs = do_create_rule(
            session, people["rival"], RuleDraft("t", intents=("spam",), priority=0), actor="t"
        )
    with sessions() as session, pytest.raises(NotFoundError):
        rule_of_workspace(session, workspace.id, theirs)


# --- applying rules ---------------------------------------------------------------------


@pytest.fixture
def channel(sessions: sessionmaker[Session], workspace: Workspace) -> Channel:
    return make_channel(sessions, workspace, "Support", "twitter")


def _conversations(sessions: sessionmaker[Session], channel: Channel, count: int) -> list[int]:
    """``count`` conversations on ``channel``, made before any rule exists."""
    with transaction(sessions, write_lock=True) as session:
        messages = [msg(f"c{i}", GIULIA if i % 2 else MARCO, i) for i in range(count)]
        ingest(session, channel, messages, reader=KeywordReader())
        return list(
            session.scalars(
                select(Conversation.id)
                .where(Conversation.channel_id == channel.id)
                .order_by(Conversation.id)
            )
        )


def _rule(sessions: sessionmaker[Session], workspace_id: int, draft: RuleDraft) -> int:
    with transaction(sessions) as session:
        checked = check_rule(session, workspace_id, draft)
        return do_create_rule(session, workspace_id, checked, actor="t")


def _label(sessions: sessionmaker[Session], workspace_id: int, name: str) -> int:
    with transaction(sessions) as session:
        return label_named(session, workspace_id, name)


def _labels_of(sessions: sessionmaker[Session], conversation_ids: list[int]) -> dict[int, set[int]]:
    with sessions() as session:
        rows = session.execute(
            select(ConversationLabel.conversation_id, ConversationLabel.label_id).where(
                ConversationLabel.conversation_id.in_(conversation_ids)
            )
        )
        found: dict[int, set[int]] = {c: set() for c in conversation_ids}
        for conversation_id, label_id in rows:
            found[conversation_id].add(label_id)
        return found


def _assignees(sessions: sessionmaker[Session], conversation_ids: list[int]) -> list[int | None]:
    with sessions() as session:
        return [session.get_one(Conversation, c).assignee_id for c in conversation_ids]


def _apply(
    sessions: sessionmaker[Session], workspace_id: int, items: list[RoutedMessage]
) -> dict[int, RoutingOutcome]:
    with transaction(sessions, write_lock=True) as session:
        return apply_routing(session, workspace_id, items)


def test_applying_labels_and_assigns_only_conversations_with_nobody(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    first, second, third = _conversations(sessions, channel, 3)
    urgent = _label(sessions, workspace.id, "urgente")
    _rule(
        sessions,
        workspace.id,
        RuleDraft(
            "reclami",
            intents=("complaint",),
            label_id=urgent,
            priority=3,
            assignee_id=people["agent"],
        ),
    )
    with transaction(sessions) as session:
        do_assign(session, second, people["owner"])
        session.add(ConversationLabel(conversation_id=third, label_id=urgent))

    outcomes = _apply(
        sessions,
        workspace.id,
        [
            RoutedMessage(first, channel.id, "rotto", "it", "negative", "complaint"),
            RoutedMessage(second, channel.id, "rotto", "it", "negative", "complaint"),
            RoutedMessage(third, channel.id, "rotto", "it", "negative", "complaint"),
        ],
    )

    assert set(outcomes) == {first, second, third}
    assert outcomes[first].priority == 3
    assert _labels_of(sessions, [first, second, third]) == {
        first: {urgent},
        second: {urgent},
        third: {urgent},
    }
    assert _assignees(sessions, [first, second, third]) == [
        people["agent"],
        people["owner"],
        people["agent"],
    ]


def test_messages_no_rule_meets_change_nothing(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    (only,) = _conversations(sessions, channel, 1)
    _rule(
        sessions,
        workspace.id,
        RuleDraft("spam", intents=("spam",), label_id=_label(sessions, workspace.id, "spam")),
    )

    assert (
        _apply(
            sessions,
            workspace.id,
            [RoutedMessage(only, channel.id, "ciao", "it", "neutral", "question")],
        )
        == {}
    )
    assert _labels_of(sessions, [only]) == {only: set()}


def test_a_disabled_rule_does_not_apply(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel
) -> None:
    (only,) = _conversations(sessions, channel, 1)
    rule_id = _rule(sessions, workspace.id, RuleDraft("q", intents=("question",), priority=2))
    item = RoutedMessage(only, channel.id, "ciao?", "it", "neutral", "question")
    with transaction(sessions) as session:
        do_enable_rule(session, rule_of_workspace(session, workspace.id, rule_id), False, actor="t")

    assert _apply(sessions, workspace.id, [item]) == {}

    with transaction(sessions) as session:
        do_enable_rule(session, rule_of_workspace(session, workspace.id, rule_id), True, actor="t")
    assert _apply(sessions, workspace.id, [item])[only].priority == 2


def test_applying_costs_the_same_statements_for_ten_or_three_hundred_messages(
    runtime: Runtime, workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    sessions = runtime.sessions
    ids = _conversations(sessions, channel, 300)
    label = _label(sessions, workspace.id, "urgente")
    _rule(sessions, workspace.id, RuleDraft("a", keywords=("rotto",), label_id=label))
    _rule(sessions, workspace.id, RuleDraft("b", intents=("lead",), assignee_id=people["agent"]))
    _rule(
        sessions,
        workspace.id,
        RuleDraft("c", sentiments=("negative",), assignee_id=people["owner"]),
    )
    counts = []
    for chosen in (ids[:10], ids[10:]):
        items = [
            RoutedMessage(
                c,
                channel.id,
                "è ROTTO",
                "it",
                "negative" if c % 3 == 0 else "neutral",
                "complaint" if c % 3 == 0 else "lead",
            )
            for c in chosen
        ]
        with transaction(sessions, write_lock=True) as session, statements(runtime.engine) as seen:
            apply_routing(session, workspace.id, items)
        counts.append(len(seen))

    assert counts[0] == counts[1] <= 4, counts
    assert all(_labels_of(sessions, ids).values())
    assert set(_assignees(sessions, ids)) == {people["agent"], people["owner"]}


def test_only_the_workspace_rules_apply(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    (only,) = _conversations(sessions, channel, 1)
    rival = people["rival"]
    _rule(
        sessions, rival, RuleDraft("theirs", intents=("complaint",), label_id=people["rival_label"])
    )

    assert (
        _apply(
            sessions,
            workspace.id,
            [RoutedMessage(only, channel.id, "x", "it", "negative", "complaint")],
        )
        == {}
    )
    assert _labels_of(sessions, [only]) == {only: set()}


def test_a_label_or_assignee_that_is_not_the_workspace_any_more_is_ignored(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    (only,) = _conversations(sessions, channel, 1)
    rule_id = _rule(sessions, workspace.id, RuleDraft("r", intents=("complaint",), priority=2))
    with transaction(sessions) as session:  # as if written around the checks
        session.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule_id)
            .values(set_label_id=people["rival_label"], set_assignee_id=people["stranger"])
        )

    outcome = _apply(
        sessions,
        workspace.id,
        [RoutedMessage(only, channel.id, "x", "it", "negative", "complaint")],
    )

    assert outcome[only] == RoutingOutcome((), 2, None, (rule_id,))
    assert _labels_of(sessions, [only]) == {only: set()}
    assert _assignees(sessions, [only]) == [None]


def test_an_analyst_is_never_assigned_by_a_rule(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    (only,) = _conversations(sessions, channel, 1)
    rule_id = _rule(
        sessions, workspace.id, RuleDraft("r", intents=("complaint",), assignee_id=people["agent"])
    )
    with transaction(sessions) as session:  # the agent became an analyst after the rule
        session.execute(
            update(RoutingRule)
            .where(RoutingRule.id == rule_id)
            .values(set_assignee_id=people["analyst"])
        )

    _apply(
        sessions,
        workspace.id,
        [RoutedMessage(only, channel.id, "x", "it", "negative", "complaint")],
    )

    assert _assignees(sessions, [only]) == [None]


def test_a_member_who_leaves_is_taken_out_of_the_rules(
    sessions: sessionmaker[Session], workspace: Workspace, people: dict[str, int]
) -> None:
    mine = _rule(
        sessions,
        workspace.id,
        RuleDraft("r", intents=("lead",), assignee_id=people["agent"], priority=1),
    )
    with transaction(sessions) as session:
        agent_elsewhere = do_add_member(
            session, people["rival"], people["agent"], "agent", actor="t"
        )
        theirs = do_create_rule(
            session,
            people["rival"],
            RuleDraft("t", intents=("lead",), assignee_id=agent_elsewhere.user_id),
            actor="t",
        )
        do_unassign_member(session, workspace.id, people["agent"])

    with sessions() as session:
        assert session.get_one(RoutingRule, mine).set_assignee_id is None
        assert session.get_one(RoutingRule, mine).set_priority == 1
        assert session.get_one(RoutingRule, theirs).set_assignee_id == people["agent"]


def test_ingest_applies_the_rules_to_new_inbound_messages(
    sessions: sessionmaker[Session], workspace: Workspace, channel: Channel, people: dict[str, int]
) -> None:
    label = _label(sessions, workspace.id, "rimborsi")
    _rule(
        sessions,
        workspace.id,
        RuleDraft("rimborsi", keywords=("rimborso",), label_id=label, assignee_id=people["agent"]),
    )
    with transaction(sessions, write_lock=True) as session:
        ingest(
            session,
            channel,
            [
                msg("r1", GIULIA, 0, text="Vorrei un RIMBORSO"),
                msg("r2", MARCO, 1, text="Tutto bene"),
            ],
            reader=KeywordReader(),
        )
        giulia, marco = session.scalars(
            select(Conversation.id)
            .where(Conversation.channel_id == channel.id)
            .order_by(Conversation.started_at)
        ).all()

    assert _labels_of(sessions, [giulia, marco]) == {giulia: {label}, marco: set()}
    assert _assignees(sessions, [giulia, marco]) == [people["agent"], None]


def _rival(sessions: sessionmaker[Session], people: dict[str, int]) -> Workspace:
    with sessions() as session:
        rival = session.get_one(Workspace, people["rival"])
        session.expunge(rival)
        return rival


def _with(draft: RuleDraft, **changes: object) -> RuleDraft:
    return replace(draft, **changes)  # type: ignore[arg-type]


def test_the_label_of_a_rule_is_found_by_name_case_aside(
    sessions: sessionmaker[Session], workspace: Workspace
) -> None:
    first = _label(sessions, workspace.id, "Urgente")

    assert _label(sessions, workspace.id, " urgente ") == first
    with sessions() as session:
        assert session.scalars(
            select(Label.name).where(Label.workspace_id == workspace.id)
        ).all() == ["Urgente"]
