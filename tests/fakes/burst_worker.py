"""Run RQ jobs in the test's own process: ``SimpleWorker(...).work(burst=True)`` without the
worker's command channel.

A worker subscribes to ``rq:pubsub:{name}`` (remote commands: shut down, kill the horse) in a
redis-py thread that blocks in ``get_message(timeout=60)``; at teardown the worker joins that
thread, so a burst run could sit idle for up to 60 s after its last job (seen: 60.08 s for one
job in the suite). A burst run in a test takes no remote commands, so it does not subscribe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from rq import SimpleWorker
from rq.serializers import JSONSerializer

if TYPE_CHECKING:
    from rq import Queue

__all__ = ["run_burst"]


@final
class _QuietWorker(SimpleWorker):
    def subscribe(self) -> None:
        """No command channel: nothing sends this worker commands."""

    def unsubscribe(self) -> None:
        """Nothing to leave."""


def run_burst(queue: Queue) -> bool:
    """Run every job queued on ``queue`` now, in this process; True if any job ran."""
    worker = _QuietWorker([queue], connection=queue.connection, serializer=JSONSerializer)
    return bool(worker.work(burst=True))
