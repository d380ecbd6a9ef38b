"""The broadcast seam on its own: a stream's inbox, the fan-out to this process's viewers, and the
Redis Streams implementation between two "processes" (two RedisBroadcast objects on one real Redis)."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from server.broadcast import EPOCH, INBOX_SIZE, LOOK, QUEUE, STATUS, Message, Viewers
from server.broadcast_redis import QUEUE_STREAM, RUN_STREAM, STREAM_MAXLEN, STREAM_TTL_SECONDS, RedisBroadcast
from server.redis_client import connect


def test_viewers_get_the_messages_of_their_run_only():
    viewers = Viewers()
    with viewers.watch("a") as a, viewers.watch("a") as a2, viewers.watch("b") as b:
        viewers.deliver("a", Message(EPOCH, "{}", 1))
        viewers.deliver_to_all(Message(QUEUE))
        assert a.wait(0) == a2.wait(0) == [Message(EPOCH, "{}", 1), Message(QUEUE)]
        assert b.wait(0) == [Message(QUEUE)]
        assert viewers.watched() == ["a", "b"] and viewers.streams() == 3
    assert viewers.watched() == [] and viewers.streams() == 0


def test_a_stream_that_falls_behind_is_sent_to_the_store():
    viewers = Viewers()
    with viewers.watch("a") as watch:
        for epoch in range(1, INBOX_SIZE + 6):
            viewers.deliver("a", Message(EPOCH, "{}", epoch))
        messages = watch.wait(0)
    assert messages[0] == LOOK and len(messages) < INBOX_SIZE  # the old ones dropped: the store has them
    assert messages[-1].id == INBOX_SIZE + 5


def test_a_waiting_stream_wakes_when_a_message_comes():
    viewers = Viewers()
    with viewers.watch("a") as watch:
        threading.Timer(0.1, viewers.deliver, ("a", Message(STATUS))).start()
        started = time.monotonic()
        assert watch.wait(5) == [Message(STATUS)]
        assert time.monotonic() - started < 1


@pytest.fixture
def two_processes(redis_server):
    """Two broadcasts on one Redis, as two web processes (or a worker and a web process)."""
    redis_server.flush()
    worker, web = RedisBroadcast(connect(redis_server.url)), RedisBroadcast(connect(redis_server.url))
    web.start()
    yield worker, web
    web.stop()


def test_one_reader_per_process_brings_every_entry_to_every_local_viewer(two_processes):
    worker, web = two_processes
    readers = threading.active_count()
    worker.publish("run", EPOCH, '{"epoch": 1}', 1)  # before anyone watched: in the store, not sent
    with web.watch("run") as first, web.watch("run") as second:
        for epoch in (2, 3):
            worker.publish("run", EPOCH, f'{{"epoch": {epoch}}}', epoch)
        worker.queue_changed()
        worker.publish("run", "progress", '{"batch": 7}')
        in_order = [  # a run's entries in their order (the queue's stream is another stream)
            Message(EPOCH, '{"epoch": 2}', 2),
            Message(EPOCH, '{"epoch": 3}', 3),
            Message("progress", '{"batch": 7}'),
        ]
        for watch in (first, second):
            got: list[Message] = []
            deadline = time.monotonic() + 5
            while len(got) < len(in_order) + 1 and time.monotonic() < deadline:
                got += watch.wait(0.5)
            assert [m for m in got if m.kind != QUEUE] == in_order and got.count(Message(QUEUE)) == 1
        assert threading.active_count() == readers  # viewers add no thread: the one reader serves them


def test_streams_are_bounded_and_expire_after_their_last_entry(redis_server, two_processes):
    worker, _ = two_processes
    for epoch in range(1, 1001):
        worker.publish("long", EPOCH, "x" * 100, epoch)
    client = redis.Redis.from_url(redis_server.url)
    key = RUN_STREAM.format("long")
    assert STREAM_MAXLEN <= client.xlen(key) < 3 * STREAM_MAXLEN  # MAXLEN ~: whole nodes are trimmed
    assert 0 < client.ttl(key) <= STREAM_TTL_SECONDS
    worker.queue_changed()
    assert 0 < client.ttl(QUEUE_STREAM) <= STREAM_TTL_SECONDS
    client.close()
