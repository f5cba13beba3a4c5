"""The tasks: poll a channel, send a reply, audit a large channel, and each minute a
dispatcher that finds the polls and sends that are due (after a restart, a lost task, a
retry time).

A poll that ran schedules the channel's next one itself, at the time its outcome names,
so a channel polled every 15 seconds does not wait for the minute's dispatcher; a poll
that found the channel taken or not due schedules nothing, so duplicate tasks die out
instead of multiplying. Tasks are built by ``build_jobs`` from a runtime: nothing is
registered at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from huey import Huey, crontab

from dialoga.audience.service import run_channel_audit
from dialoga.audience.verdicts import AuditSettings
from dialoga.channels.connectors import sends_idempotently
from dialoga.channels.sending import send_reply
from dialoga.channels.sync import Live, due_channels, poll_channel
from dialoga.core.db import after_commit, transaction
from dialoga.core.fetch import policy_from
from dialoga.inbox.delivery import do_expire_sends, due_deliveries
from dialoga.jobs.queue import make_huey
from dialoga.runtime import Runtime

logger = logging.getLogger(__name__)
# a scheduled poll this late is taken for lost, and enqueued again by the dispatcher
OVERDUE = timedelta(seconds=15)


@dataclass
class Dispatched:
    """What one dispatcher run enqueued."""

    polls: int = 0
    sends: int = 0
    interrupted_sends_failed: int = 0


@dataclass
class Jobs:
    """The queue and its tasks, bound to one runtime."""

    huey: Huey
    live: Live
    poll: Any
    send: Any
    dispatch: Any
    audit: Any

    def catch_up(self) -> Dispatched:
        """What a starting consumer does first: enqueue every poll and send that is due
        now (work a killed worker left behind), not waiting for the minute's dispatcher."""
        return dispatch_due(self.live, self.poll, self.send, overdue=timedelta(0))

    def enqueue_audit(
        self, workspace_id: int, channel_id: int, inactive_days: int, locale: str
    ) -> None:
        """Audit a channel in the background (one too large to audit within a request)."""
        self.audit(workspace_id, channel_id, inactive_days, locale)

    def enqueue_poll(self, channel_id: int) -> None:
        self.poll(channel_id)

    def enqueue_send(self, message_id: int) -> None:
        self.send(message_id)

    def send_after_commit(self, session: Any, message_id: int) -> None:
        """Enqueue the reply's send once the transaction that stored it commits."""
        after_commit(session, lambda: self.enqueue_send(message_id))

    def poll_after_commit(self, session: Any, channel_id: int) -> None:
        """Enqueue a poll of the channel once the transaction that connected it commits."""
        after_commit(session, lambda: self.enqueue_poll(channel_id))


def build_jobs(runtime: Runtime, huey: Huey | None = None, live: Live | None = None) -> Jobs:
    """Register the tasks on ``huey`` (by default the queue the settings name)."""
    queue = huey or make_huey(runtime.settings)
    bound = live or Live(
        runtime.sessions,
        runtime.vault,
        policy_from(runtime.settings),
        lease=timedelta(seconds=runtime.settings.job_lease_seconds),
    )

    def run_poll(channel_id: int) -> None:
        outcome = poll_channel(bound, channel_id)
        if outcome.claimed and outcome.next_poll_at is not None:
            poll.schedule((channel_id,), eta=outcome.next_poll_at)

    def run_send(message_id: int) -> None:
        outcome = send_reply(bound, message_id)
        if outcome.retry_at is not None:
            send.schedule((message_id,), eta=outcome.retry_at)

    def run_audit(workspace_id: int, channel_id: int, inactive_days: int, locale: str) -> None:
        settings = AuditSettings(inactive_days=inactive_days, locale=locale)
        run_channel_audit(runtime.sessions, workspace_id, channel_id, settings)

    def run_dispatch() -> None:
        done = dispatch_due(bound, poll, send)
        if done.polls or done.sends or done.interrupted_sends_failed:
            logger.info("dispatched %s", done)

    poll = queue.task(name="dialoga.poll_channel")(run_poll)
    send = queue.task(name="dialoga.send_reply")(run_send)
    audit = queue.task(name="dialoga.audit_channel")(run_audit)
    dispatch = queue.periodic_task(crontab(minute="*"), name="dialoga.dispatch")(run_dispatch)
    return Jobs(queue, bound, poll, send, dispatch, audit)


def dispatch_due(live: Live, poll: Any, send: Any, overdue: timedelta = OVERDUE) -> Dispatched:
    """Enqueue polls ``overdue`` and due sends; settle sends whose worker died."""
    now = live.clock()
    with transaction(live.sessions) as session:
        again, failed = do_expire_sends(session, now, sends_idempotently)
        channels = due_channels(session, now - overdue)
        messages = due_deliveries(session, now)
    for channel_id in channels:
        poll(channel_id)
    for message_id in sorted({*again, *messages}):
        send(message_id)
    return Dispatched(len(channels), len(set(again) | set(messages)), failed)
