"""Crashed workers judged from their named connections: the pure decision, look by look."""

from __future__ import annotations

from collections.abc import Mapping

from cms.farm.crash_detection import Look, Memory, Verdict, judge
from cms.farm.worker_connections import client_name, worker_of

STARTED = {"a": 100.0, "b": 200.0, "c": 300.0}


class Watch:
    """Feeds looks to ``judge`` half a second apart, as the control worker's watch does."""

    def __init__(self, run_id: str = "run1") -> None:
        self.memory = Memory()
        self.at = 1000.0
        self.run_id = run_id
        self.uptime = 3600.0

    def look(
        self, connected: Mapping[str, str], online: Mapping[str, float] | None = None
    ) -> Verdict:
        self.at += 0.5
        self.uptime += 0.5
        look = Look(
            at=self.at,
            online=STARTED if online is None else online,
            connected=connected,
            run_id=self.run_id,
            uptime_s=self.uptime,
        )
        verdict = judge(self.memory, look)
        self.memory = verdict.memory
        return verdict


ALL = {"a": "1", "b": "2", "c": "3"}


def test_a_connection_gone_for_two_looks_is_a_crash():
    watch = Watch()
    assert watch.look(ALL).crashed == ()
    assert watch.look({"a": "1", "c": "3"}).crashed == ()  # one look could be a reconnect
    assert watch.look({"a": "1", "c": "3"}).crashed == (("b", 200.0),)
    # judged once: it is not reported again while its heartbeat lingers
    assert watch.look({"a": "1", "c": "3"}).crashed == ()


def test_a_connection_back_at_the_next_look_is_no_crash():
    watch = Watch()
    watch.look(ALL)
    watch.look({"a": "1", "c": "3"})
    assert watch.look({"a": "1", "b": "9", "c": "3"}).crashed == ()
    assert watch.look({"a": "1", "c": "3"}).crashed == ()  # the count started again
    assert watch.look({"a": "1", "c": "3"}).crashed == (("b", 200.0),)


def test_a_worker_whose_connection_was_never_seen_keeps_the_heartbeat_rule():
    # A worker from before named connections: online by heartbeat, never connected by name.
    watch = Watch()
    for _ in range(5):
        assert watch.look({"a": "1"}).crashed == ()


def test_a_paused_worker_keeps_its_connection_and_is_not_judged():
    # SIGSTOP leaves the socket open: the name stays listed until the heartbeat expires.
    watch = Watch()
    for _ in range(10):
        assert watch.look(ALL).crashed == ()
    assert watch.look({"a": "1", "c": "3"}, online={"a": 100.0, "c": 300.0}).crashed == ()


def test_a_restarted_worker_is_a_new_process_seen_afresh():
    watch = Watch()
    watch.look(ALL)
    # b restarted: a new started_at, and its new process has not connected yet
    restarted = {**STARTED, "b": 250.0}
    for _ in range(3):
        assert watch.look({"a": "1", "c": "3"}, online=restarted).crashed == ()
    watch.look({"a": "1", "b": "7", "c": "3"}, online=restarted)
    watch.look({"a": "1", "c": "3"}, online=restarted)
    assert watch.look({"a": "1", "c": "3"}, online=restarted).crashed == (("b", 250.0),)


def test_a_redis_restart_drops_every_connection_and_declares_no_one():
    watch = Watch()
    watch.look(ALL)
    # Redis restarted between looks (heartbeats restored from its dump): a new run_id
    watch.run_id, watch.uptime = "run2", 0.0
    verdict = watch.look({})
    assert verdict.crashed == ()
    assert verdict.note == "Redis restarted"
    for _ in range(4):  # still nobody reconnected: judged by heartbeats meanwhile
        assert watch.look({}).crashed == ()
    # each worker counts again once its connection is seen again
    watch.look({"a": "11"})
    watch.look({"a": "11"})
    assert watch.look({}).crashed == ()
    assert watch.look({}).crashed == (("a", 100.0),)


def test_an_uptime_shorter_than_the_time_since_the_last_look_is_a_restart():
    watch = Watch()
    watch.look(ALL)
    watch.at += 5  # the watch could not look for a while (Redis down)
    watch.uptime = 2.0  # a Redis that reports the same run_id (a replica promoted, say)
    assert watch.look({}).note == "Redis restarted"
    assert watch.look({}).crashed == ()


def test_most_connections_closing_at_once_are_redis_not_crashes():
    watch = Watch()
    watch.look(ALL)
    # CLIENT KILL TYPE normal: two reconnect at once (new ids), one not yet
    verdict = watch.look({"c": "30"})
    assert verdict.crashed == ()
    assert verdict.note == "most worker connections closed"
    for _ in range(3):
        assert watch.look({"c": "30"}).crashed == ()  # a and b: heartbeat rule meanwhile


def test_a_lone_worker_that_crashes_is_judged():
    watch = Watch()
    watch.look({"a": "1"}, online={"a": 100.0})
    watch.look({}, online={"a": 100.0})
    assert watch.look({}, online={"a": 100.0}).crashed == (("a", 100.0),)


def test_a_worker_whose_heartbeat_is_gone_is_forgotten():
    watch = Watch()
    watch.look(ALL)
    gone = {"a": 100.0, "c": 300.0}  # b left (SIGTERM deregisters) and closed its connection
    watch.look({"a": "1", "c": "3"}, online=gone)
    assert watch.look({"a": "1", "c": "3"}, online=gone).crashed == ()
    assert ("b", 200.0) not in watch.memory.seen


def test_client_names_have_no_spaces_and_read_back():
    for worker in ("ingest1@gpu-host", "odd name@host", "100%@h", "café@h", "a\nb"):
        name = client_name(worker)
        assert all("!" <= c <= "~" for c in name), name
        assert worker_of(name) == worker
    assert client_name("ingest1@gpu-host") == "sightline-ingest:ingest1@gpu-host"
    assert worker_of("celery-broker") is None
    assert worker_of("") is None
