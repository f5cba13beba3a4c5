"""Which conversation a message belongs to: reply chains, DM threads and e-mail threads.

Messages and the ids they point to are nodes of a forest; each message is attached to its
parent (``in_reply_to``), e-mail ``References`` chain their ancestors, and DM threads hang
under their explicit thread key. A conversation is a tree: its key is the tree's root.
Parents that have not arrived yet still name the root, so a reply imported before its
parent lands in the conversation the parent will join. Pure logic, no database.
"""

from __future__ import annotations

from itertools import pairwise

from dialoga.channels.base import NormalizedMessage

EXPLICIT_PREFIX = "thread:"


class ThreadForest:
    """Union-find over message ids and thread keys, always rooted at the oldest ancestor."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def root(self, node: str) -> str:
        parent = self._parent
        path = []
        while (up := parent.get(node)) is not None:
            path.append(node)
            node = up
        for visited in path:
            parent[visited] = node
        return node

    def attach(self, child: str, parent: str) -> None:
        """Record that ``parent`` is an ancestor of ``child``.

        A child without known ancestors hangs its tree under the parent's root. A child that
        already has ancestors keeps its root and the parent's tree joins it (both roots are
        ancestors of the child; which is older is not known yet). When the top of a tree
        later learns its own parent, the tree is re-rooted there, so the root ends as the
        oldest ancestor known, whatever the order the links arrived in.
        """
        child_root, parent_root = self.root(child), self.root(parent)
        if child_root == parent_root:
            if child == child_root and parent != child:
                del self._parent[parent]  # its path led to child: it becomes the top
                self._parent[child] = parent
            return
        if child_root == child:
            self._parent[child] = parent_root
        else:
            self._parent[parent_root] = child_root

    def add_message(self, message: NormalizedMessage) -> None:
        """Record what a message says about its place in a thread."""
        own = message.external_id
        if message.thread_key:
            self.attach(own, EXPLICIT_PREFIX + message.thread_key)
            return
        references = [ref for ref in message.references if ref and ref != own]
        for older, newer in pairwise(references):
            self.attach(newer, older)
        parent = message.in_reply_to if message.in_reply_to != own else None
        if parent and references and parent not in references:
            self.attach(parent, references[-1])
        if parent:
            self.attach(own, parent)
        elif references:
            self.attach(own, references[-1])

    def nodes(self) -> set[str]:
        """Every id the forest has seen, roots included."""
        return {*self._parent.keys(), *self._parent.values()}


def referenced_ids(message: NormalizedMessage) -> list[str]:
    """The ids of other messages this one points to (parent and e-mail references)."""
    ids = list(message.references)
    if message.in_reply_to:
        ids.append(message.in_reply_to)
    return [i for i in ids if i and i != message.external_id]
