"""Which ingest workers crashed, judged from their named Redis connections (pure).

An ingest worker holds one Redis connection named after it for as long as its process
lives (cms.farm.worker_connections). A process that dies, even by kill -9, has its
sockets closed by the kernel at once, so Redis drops the name within a second, long
before the worker's heartbeat expires. A worker that is silent but alive (paused,
partitioned) keeps its connection open, so it keeps the heartbeat timeout rule.

The control worker's watch looks often (one CLIENT LIST and one INFO), and this module
decides from consecutive looks:

- a worker counts only once its named connection has been seen for its current process
  (name and ``started_at``): a worker from before named connections, or one not yet seen,
  keeps the heartbeat rule;
- it is crashed when its heartbeat still says online but its connection has been missing
  for ``misses_to_crash`` looks in a row (one look could fall between a reconnect's close
  and open);
- a Redis restart (another ``run_id``, or an uptime shorter than the time since the last
  look) drops every connection at once: everything seen is forgotten, and each worker is
  judged by its heartbeat until its connection is seen again;
- so does more than half of the seen connections (two or more) closing or being replaced
  (another connection id) in the same look: that is Redis dropping its clients (CLIENT
  KILL, a proxy), not that many processes crashing in the same half second. A crash is
  a lone process; a host that loses power or its network closes nothing and is left to
  the heartbeat rule anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# A worker's process: its name and when it became ready (its heartbeat's started_at).
Incarnation = tuple[str, float]


@dataclass(frozen=True)
class Look:
    """What the watch saw at one moment."""

    at: float  # time.time() of the look
    online: Mapping[str, float]  # heartbeat-online workers: name -> started_at
    connected: Mapping[str, str]  # workers with a named connection now: name -> its id
    run_id: str  # Redis' run_id: another one means Redis restarted
    uptime_s: float  # Redis' uptime_in_seconds


@dataclass(frozen=True)
class Memory:
    """What the watch remembers between looks (empty at its start)."""

    seen: frozenset[Incarnation] = frozenset()  # processes whose connection was seen
    misses: Mapping[Incarnation, int] = field(default_factory=dict)  # looks in a row without
    connected: Mapping[str, str] = field(default_factory=dict)  # the last look's
    run_id: str = ""
    at: float | None = None


@dataclass(frozen=True)
class Verdict:
    crashed: tuple[Incarnation, ...]  # heartbeat-online workers whose process is gone
    memory: Memory  # for the next look
    note: str = ""  # why nothing was judged this time (a restart, a mass disconnect)


def judge(memory: Memory, look: Look, *, misses_to_crash: int = 2) -> Verdict:
    """The workers this look proves crashed, and the memory for the next look."""
    if _redis_restarted(memory, look):
        fresh = Memory(connected=look.connected, run_id=look.run_id, at=look.at)
        return Verdict((), _remember_connected(fresh, look), "Redis restarted")
    online = {(name, started) for name, started in look.online.items()}
    seen = memory.seen & online  # forget processes whose heartbeat is gone
    seen_before = {name for name, _ in seen} & set(memory.connected)
    dropped = {n for n in seen_before if look.connected.get(n) != memory.connected[n]}
    if len(dropped) >= 2 and 2 * len(dropped) > len(seen_before):
        # Redis dropped them: judge them by heartbeats until each is seen again.
        kept = frozenset(i for i in seen if i[0] not in dropped)
        quiet = Memory(seen=kept, connected=look.connected, run_id=look.run_id, at=look.at)
        return Verdict((), _remember_connected(quiet, look), "most worker connections closed")
    misses: dict[Incarnation, int] = {}
    crashed = []
    for incarnation in sorted(seen):
        if incarnation[0] in look.connected:
            continue
        count = memory.misses.get(incarnation, 0) + 1
        if count >= misses_to_crash:
            crashed.append(incarnation)
        else:
            misses[incarnation] = count
    judged = Memory(
        seen=seen - set(crashed),
        misses=misses,
        connected=look.connected,
        run_id=look.run_id,
        at=look.at,
    )
    return Verdict(tuple(crashed), _remember_connected(judged, look))


def _redis_restarted(memory: Memory, look: Look) -> bool:
    if memory.at is None:
        return False
    # Uptime is whole seconds: a restart is certain only when it is shorter than the gap.
    return look.run_id != memory.run_id or look.uptime_s + 1 < look.at - memory.at


def _remember_connected(memory: Memory, look: Look) -> Memory:
    """``memory`` with every online process whose connection this look saw added."""
    now_seen = {(n, s) for n, s in look.online.items() if n in look.connected}
    return Memory(
        seen=memory.seen | now_seen,
        misses=memory.misses,
        connected=memory.connected,
        run_id=memory.run_id,
        at=memory.at,
    )
