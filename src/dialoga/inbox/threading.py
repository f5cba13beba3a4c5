"""Which conversation a message belongs to: reply chains, DM threads and e-mail threads.

Messages and the ids they point to are nodes of a forest. A message names its parent
(``In-Reply-To``, a tweet's reply-to id): a *direct* link. E-mail ``References`` list
ancestors, oldest first, but may skip some: *ancestor* links, used only where no direct
parent is known. DM threads hang under their explicit thread key. A conversation is one
tree, whatever order its messages arrive in; its key is the tree's top, the oldest
ancestor anyone named, so a reply imported before its parent lands in the conversation
the parent will join. Pure logic, no database.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from dialoga.channels.base import NormalizedMessage

EXPLICIT_PREFIX = "thread:"


class ThreadForest:
    """Parent links between ids, grouped into trees; each tree named by its top."""

    def __init__(self) -> None:
        self._group: dict[str, str] = {}  # union-find: which nodes are one tree
        self._parent: dict[str, str] = {}  # best known parent of each node
        self._direct: set[str] = set()  # nodes whose parent was named directly
        self._roots: dict[str, str] | None = None

    def attach(self, child: str, parent: str, *, direct: bool = True) -> None:
        """Record that ``parent`` is ``child``'s parent (``direct``) or an ancestor.

        A direct parent replaces an ancestor recorded before; otherwise the first link
        learnt stays. Links that would close a loop only join the trees.
        """
        if child == parent:
            return
        self._roots = None
        # A loop is only possible inside one tree: walk up only then.
        same_tree = (
            child in self._group
            and parent in self._group
            and (self._find(child) == self._find(parent))
        )
        self._union(child, parent)
        if child in self._direct or (child in self._parent and not direct):
            return
        if same_tree and self._leads_to(parent, child):
            return
        self._parent[child] = parent
        if direct:
            self._direct.add(child)

    def add_message(self, message: NormalizedMessage) -> None:
        """Record what a message says about its place in a thread."""
        own = message.external_id
        if message.thread_key:
            self.attach(own, EXPLICIT_PREFIX + message.thread_key)
            return
        references = [ref for ref in message.references if ref and ref != own]
        for older, newer in pairwise(references):
            self.attach(newer, older, direct=False)
        parent = message.in_reply_to if message.in_reply_to != own else None
        if parent and references and parent not in references:
            self.attach(parent, references[-1], direct=False)
        if parent:
            self.attach(own, parent)
        elif references:
            self.attach(own, references[-1])

    def root(self, node: str) -> str:
        """The key of ``node``'s tree: the top most of its nodes lead to."""
        if self._roots is None:
            self._roots = self._name_trees()
        return self._roots.get(node, node)

    def nodes(self) -> set[str]:
        """Every id the forest has seen."""
        return set(self._group)

    def _find(self, node: str) -> str:
        group = self._group
        path = []
        while (up := group.get(node, node)) != node:
            path.append(node)
            node = up
        for visited in path:
            group[visited] = node
        return node

    def _union(self, a: str, b: str) -> None:
        self._group.setdefault(a, a)
        self._group.setdefault(b, b)
        first, second = self._find(a), self._find(b)
        if first != second:
            self._group[second] = first

    def _leads_to(self, start: str, target: str) -> bool:
        node: str | None = start
        while node is not None:
            if node == target:
                return True
            node = self._parent.get(node)
        return False

    def _top(self, node: str, tops: dict[str, str]) -> str:
        path = []
        while node not in tops and (up := self._parent.get(node)) is not None:
            path.append(node)
            node = up
        top = tops.get(node, node)
        for visited in path:
            tops[visited] = top
        tops[node] = top
        return top

    def _name_trees(self) -> dict[str, str]:
        """Each node's tree key: the top its nodes lead to (the most of them, if links
        disagree; then the smallest id, so the choice does not depend on arrival order)."""
        tops: dict[str, str] = {}
        first_top: dict[str, str] = {}
        disputed: set[str] = set()
        for node in self._group:
            group, top = self._find(node), self._top(node, tops)
            if first_top.setdefault(group, top) != top:
                disputed.add(group)
        votes: dict[str, Counter[str]] = {group: Counter() for group in disputed}
        for node in self._group:
            if (group := self._find(node)) in votes:
                votes[group][tops[node]] += 1
        for group, counter in votes.items():
            first_top[group] = min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
        return {node: first_top[self._find(node)] for node in self._group}


def referenced_ids(message: NormalizedMessage) -> list[str]:
    """The ids of other messages this one points to (parent and e-mail references)."""
    ids = list(message.references)
    if message.in_reply_to:
        ids.append(message.in_reply_to)
    return [i for i in ids if i and i != message.external_id]
