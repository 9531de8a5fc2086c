"""Named worker connections in a real Redis: listed while open, named again on reconnect."""

from __future__ import annotations

import time

import redis
from django.conf import settings

from cms import redis_connection
from cms.farm import farm_keys, worker_connections
from cms.farm.heartbeats import WorkerInfo
from tests.farm.conftest import wait_for


def test_a_named_client_is_listed_while_open_and_gone_once_closed(redis_client):
    worker = "ingest-x@host one"
    named = redis_connection.named_client(worker_connections.client_name(worker))
    named.ping()
    listed = worker_connections.connected_workers(redis_client)
    assert list(listed) == [worker]

    named.close()
    wait_for(
        lambda: worker not in worker_connections.connected_workers(redis_client),
        5,
        "the closed connection to leave the list",
    )


def test_a_named_client_is_named_again_when_it_reconnects(redis_client):
    named = redis_connection.named_client(worker_connections.client_name("ingest-y@h"))
    named.ping()
    before = worker_connections.connected_workers(redis_client)["ingest-y@h"]
    redis_client.client_kill_filter(_type="normal", skipme=True)  # as CLIENT KILL would
    wait_for(
        lambda: "ingest-y@h" not in worker_connections.connected_workers(redis_client),
        5,
        "the killed connection to leave the list",
    )

    named.set("sightline:test:after-kill", 1)  # the next heartbeat reconnects
    after = worker_connections.connected_workers(redis_client)["ingest-y@h"]
    assert after != before  # a new connection, under the same name
    named.close()


def test_connections_to_another_database_are_not_this_farms(redis_client):
    other_db = redis.Redis.from_url(settings.REDIS_URL, db=5, client_name="sightline-ingest:z@h")
    other_db.ping()
    assert "z@h" not in worker_connections.connected_workers(redis_client)
    other_db.close()


def test_a_crashed_worker_is_removed_only_if_the_same_process_still_heartbeats(redis_client):
    info = WorkerInfo(name="ingest@c", device="cpu", capacity=2, last_seen=time.time(),
                      started_at=123.5)  # fmt: skip
    farm_keys.write_worker(redis_client, info)
    # it restarted meanwhile: a newer process of that name is left alone
    assert not farm_keys.remove_crashed_worker(redis_client, "ingest@c", 100.0)
    assert "ingest@c" in farm_keys.read_workers(redis_client)

    assert farm_keys.remove_crashed_worker(redis_client, "ingest@c", 123.5)
    assert farm_keys.read_workers(redis_client) == {}
    assert not farm_keys.remove_crashed_worker(redis_client, "ingest@c", 123.5)


def test_redis_run_names_this_server(redis_client):
    run_id, uptime = worker_connections.redis_run(redis_client)
    assert len(run_id) == 40
    assert uptime >= 0


def test_client_list_lines_read_as_the_newest_connection_of_each_worker():
    text = (
        "id=3 addr=/tmp/r.sock:0 fd=7 name= age=0 idle=0 flags=U db=0 cmd=client\n"
        "id=4 addr=10.0.0.2:5120 fd=8 name=sightline-ingest:a@gpu%201 age=9 flags=N db=0\n"
        "id=9 addr=10.0.0.2:5122 fd=9 name=sightline-ingest:a@gpu%201 age=0 flags=N db=0\n"
        "id=5 addr=10.0.0.3:5121 fd=10 name=sightline-ingest:b@gpu2 age=9 flags=N db=2\n"
        "id=6 addr=10.0.0.3:5123 fd=11 name=celery age=9 idle=1 flags=N db=0 cmd=brpop\n"
    )  # fmt: skip
    assert worker_connections.parse_client_list(text, db="0") == {"a@gpu 1": "9"}
    assert worker_connections.parse_client_list(text, db="2") == {"b@gpu2": "5"}
