"""ThreadForest and referenced_ids: reply trees, e-mail threads, DM keys, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialoga.channels.base import NormalizedAuthor, NormalizedMessage
from dialoga.inbox.threading import EXPLICIT_PREFIX, ThreadForest, referenced_ids

AUTHOR = NormalizedAuthor("twitter", "115712")
WHEN = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def _message(
    external_id: str,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    thread_key: str | None = None,
) -> NormalizedMessage:
    return NormalizedMessage(
        external_id=external_id,
        author=AUTHOR,
        created_at=WHEN,
        text="…",
        in_reply_to=in_reply_to,
        references=references,
        thread_key=thread_key,
    )


def _forest(*messages: NormalizedMessage) -> ThreadForest:
    forest = ThreadForest()
    for message in messages:
        forest.add_message(message)
    return forest


# --- reply chains --------------------------------------------------------------------


def test_unknown_node_is_its_own_root() -> None:
    forest = ThreadForest()

    assert forest.root("42") == "42"
    assert forest.nodes() == set()


def test_a_message_without_parent_roots_its_own_thread() -> None:
    forest = _forest(_message("1"))

    assert forest.root("1") == "1"
    assert forest.nodes() == set()


def test_reply_chain_is_rooted_at_the_first_message() -> None:
    forest = _forest(_message("1"), _message("2", "1"), _message("3", "2"), _message("4", "3"))

    assert {forest.root(n) for n in ("1", "2", "3", "4")} == {"1"}
    assert forest.nodes() == {"1", "2", "3", "4"}


def test_siblings_share_their_parent_root_and_other_trees_stay_apart() -> None:
    forest = _forest(
        _message("1"), _message("2", "1"), _message("3", "1"), _message("9"), _message("10", "9")
    )

    assert forest.root("2") == forest.root("3") == "1"
    assert forest.root("10") == "9"


def test_reply_before_its_parent_names_the_parent_then_moves_to_the_root() -> None:
    forest = ThreadForest()
    forest.add_message(_message("3", "2"))
    assert forest.root("3") == "2"  # the parent that has not arrived yet holds the place

    forest.add_message(_message("2", "1"))
    assert forest.root("3") == forest.root("2") == "1"

    forest.add_message(_message("1"))
    assert forest.root("3") == "1"


def test_attach_joins_whole_trees_and_ignores_a_second_link() -> None:
    forest = ThreadForest()
    forest.attach("b", "a")
    forest.attach("y", "x")
    forest.attach("y", "b")  # y already has a parent (x): the trees join, x stays its parent

    roots = {forest.root(n) for n in ("a", "b", "x", "y")}
    assert len(roots) == 1
    assert roots <= {"a", "x"}  # two tops, equally supported: either names the tree
    forest.attach("a", "y")  # a learns its parent: one top left, x
    assert {forest.root(n) for n in ("a", "b", "x", "y")} == {"x"}
    forest.attach("x", "b")  # would close a loop: the parent link is ignored
    assert {forest.root(n) for n in ("a", "b", "x", "y")} == {"x"}
    forest.attach("lone", "b")  # a child without ancestors joins the parent's tree
    assert forest.root("lone") == "x"


def test_stored_parent_grafted_under_its_conversation_key() -> None:
    # ingest attaches a stored message to its conversation's key before adding the batch
    forest = ThreadForest()
    forest.attach("555", "100")
    forest.add_message(_message("556", "555"))

    assert forest.root("556") == "100"


# --- e-mail references ----------------------------------------------------------------


def test_references_chain_every_ancestor() -> None:
    forest = _forest(_message("<d>", "<c>", ("<a>", "<b>", "<c>")))

    assert {forest.root(n) for n in ("<a>", "<b>", "<c>", "<d>")} == {"<a>"}


def test_references_with_missing_middle_messages_still_join_one_thread() -> None:
    # Only the first and the last message ever arrive; the ones between are named only.
    first = _message("<a>")
    last = _message("<e>", "<d>", ("<a>", "<b>", "<c>", "<d>"))

    for order in ((first, last), (last, first)):
        forest = _forest(*order)
        assert forest.root("<e>") == forest.root("<a>") == "<a>"


def test_parent_missing_from_references_hangs_under_the_last_reference() -> None:
    forest = _forest(_message("<z>", "<y>", ("<a>", "<b>")))

    assert forest.root("<y>") == forest.root("<z>") == "<a>"


def test_references_without_in_reply_to_thread_the_message() -> None:
    forest = _forest(_message("<c>", None, ("<a>", "<b>")))

    assert forest.root("<c>") == "<a>"


def test_truncated_references_of_two_replies_meet_at_the_oldest() -> None:
    # Mail clients drop the oldest references when the list grows too long.
    forest = _forest(
        _message("<d>", "<c>", ("<b>", "<c>")),
        _message("<c>", "<b>", ("<a>", "<b>")),
    )

    assert forest.root("<d>") == "<a>"


# --- explicit thread keys -------------------------------------------------------------


def test_explicit_thread_key_wins_over_reply_links() -> None:
    forest = _forest(
        _message("dm-1", thread_key="conv-7"),
        _message("dm-2", "dm-1", thread_key="conv-7"),
        _message("dm-3", "not-in-this-thread", thread_key="conv-7"),
    )

    assert {forest.root(n) for n in ("dm-1", "dm-2", "dm-3")} == {EXPLICIT_PREFIX + "conv-7"}
    assert forest.root("not-in-this-thread") == "not-in-this-thread"


def test_thread_keys_cannot_collide_with_message_ids() -> None:
    forest = _forest(_message("conv-7"), _message("dm-1", thread_key="conv-7"))

    assert forest.root("dm-1") == "thread:conv-7"
    assert forest.root("conv-7") == "conv-7"


def test_two_thread_keys_are_two_conversations() -> None:
    forest = _forest(_message("dm-1", thread_key="a"), _message("dm-2", thread_key="b"))

    assert forest.root("dm-1") != forest.root("dm-2")


# --- hostile input: self references and cycles ------------------------------------------


def test_self_reply_and_self_reference_are_ignored() -> None:
    forest = _forest(_message("1", "1", ("1", "1")))

    assert forest.root("1") == "1"
    assert forest.nodes() == set()


def test_reply_cycle_terminates_in_one_tree() -> None:
    forest = _forest(_message("a", "b"), _message("b", "c"), _message("c", "a"))

    roots = {forest.root(n) for n in ("a", "b", "c")}
    assert len(roots) == 1
    assert roots <= {"a", "b", "c"}


def test_references_cycle_and_duplicates_terminate() -> None:
    forest = _forest(
        _message("m", "x", ("x", "y", "x", "y", "m", "")),
        _message("x", "y", ("m",)),
    )

    assert len({forest.root(n) for n in ("m", "x", "y")}) == 1


def test_empty_ids_are_not_links() -> None:
    forest = _forest(_message("1", "", ("",)))

    assert forest.nodes() == set()
    assert referenced_ids(_message("1", "", ("",))) == []


# --- referenced_ids -------------------------------------------------------------------


def test_referenced_ids_lists_references_then_the_parent_without_itself() -> None:
    message = _message("<d>", "<c>", ("<a>", "<d>", "<b>"))

    assert referenced_ids(message) == ["<a>", "<b>", "<c>"]


def test_referenced_ids_of_a_first_message_is_empty() -> None:
    assert referenced_ids(_message("1")) == []
    assert referenced_ids(_message("1", "1")) == []


# --- property: arrival order does not matter ---------------------------------------------


@st.composite
def _reply_tree(draw: st.DrawFn, *, with_references: bool) -> list[NormalizedMessage]:
    """Messages of one tree (``m0`` is its root) in an arbitrary order; with references,
    some replies name their ancestors as e-mail does, with middle ones dropped."""
    size = draw(st.integers(min_value=1, max_value=25))
    parent_of = {node: draw(st.integers(0, node - 1)) for node in range(1, size)}
    messages = [_message("m0")]
    for node, parent in parent_of.items():
        chain = [parent]
        while chain[-1] in parent_of:
            chain.append(parent_of[chain[-1]])
        references: tuple[str, ...] = ()
        if with_references and draw(st.booleans()):
            references = tuple(f"m{a}" for a in reversed(chain) if draw(st.booleans()))
        messages.append(_message(f"m{node}", f"m{parent}", references))
    return draw(st.permutations(messages))


@given(_reply_tree(with_references=False))
def test_any_arrival_order_roots_a_reply_tree_at_its_first_message(
    messages: list[NormalizedMessage],
) -> None:
    forest = _forest(*messages)

    assert {forest.root(m.external_id) for m in messages} == {"m0"}


@given(_reply_tree(with_references=True))
def test_any_arrival_order_roots_an_email_tree_at_its_first_message(
    messages: list[NormalizedMessage],
) -> None:
    forest = _forest(*messages)

    assert {forest.root(m.external_id) for m in messages} == {"m0"}


def test_root_is_the_oldest_ancestor_whatever_the_references() -> None:
    forest = _forest(
        _message("m0"),
        _message("m9", "m5", ("m0",)),  # References trimmed to the first id
        _message("m5", "m1"),  # In-Reply-To only
        _message("m1", "m0"),
    )

    assert forest.root("m9") == "m0"


def test_root_is_the_oldest_ancestor_when_a_placeholder_parent_came_first() -> None:
    forest = _forest(
        _message("m0"),
        _message("m6", "m1"),  # m1 is not known yet
        _message("m7", "m6", ("m0",)),  # References trimmed to the thread's first id
        _message("m1", "m0"),
    )

    assert forest.root("m7") == forest.root("m1") == "m0"


def test_root_is_the_oldest_ancestor_after_a_re_rooting() -> None:
    forest = _forest(
        _message("m1", "m0"),
        _message("m6", "m3"),  # In-Reply-To only, m3 not known yet
        _message("m7", "m6", ("m0", "m6")),  # References trimmed to the first and the parent
        _message("m3", "m1"),  # In-Reply-To only
    )

    assert {forest.root(n) for n in ("m0", "m1", "m3", "m6", "m7")} == {"m0"}


@pytest.mark.slow
def test_a_long_reply_chain_threads_without_walking_up_the_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 8_000
    chain = [_message("c0")] + [_message(f"c{i}", f"c{i - 1}") for i in range(1, size)]
    walks: list[str] = []
    original = ThreadForest._leads_to

    def counting(forest: ThreadForest, start: str, target: str) -> bool:
        walks.append(start)
        return original(forest, start, target)

    monkeypatch.setattr(ThreadForest, "_leads_to", counting)

    forest = _forest(*chain)  # time order: every reply joins a tree of its own, no loop check

    assert forest.root(f"c{size - 1}") == "c0"
    assert walks == []
