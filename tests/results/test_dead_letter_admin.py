"""Dead letters are shown in the admin with their error, and replayable from there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cms.models import Detection
from cms.results import results_stream
from tests.results.conftest import dead_letter_one, drain

pytestmark = pytest.mark.django_db(transaction=True)


def test_dead_letters_are_listed_and_replayed_from_the_admin(
    admin_client, publish, consumer, redis_client
):
    # given a result that could not be read, and one whose receiver was down
    dead_letter_one(redis_client, {b"r": b"{broken"}, "ValueError: broken", 5)
    publish(3)
    redis_client.xadd(
        results_stream.dead_letter_stream(),
        {
            "original_id": "2-0",
            "error": "RuntimeError: receiver down",
            "deliveries": 5,
            "failed_at": 0,
            "fields": _fields_of_newest_result(redis_client),
        },
    )
    redis_client.delete(results_stream.results_stream())
    page = admin_client.get(reverse("admin-dead-letters"))
    assert page.status_code == 200
    assert b"ValueError: broken" in page.content
    assert b"RuntimeError: receiver down" in page.content

    replayable = [
        d["id"] for d in results_stream.dead_letters(redis_client) if "receiver" in d["error"]
    ]
    response = admin_client.post(
        reverse("admin-dead-letters"), {"action": "replay", "ids": replayable}
    )
    assert response.status_code == 302
    results_stream.ensure_group(redis_client)
    drain(consumer, lambda: Detection.objects.filter(frame_seq=3).exists())
    assert redis_client.xlen(results_stream.dead_letter_stream()) == 1


def _fields_of_newest_result(client) -> str:
    import json

    [(_, fields)] = client.xrevrange(results_stream.results_stream(), count=1)
    return json.dumps({k.decode(): v.decode() for k, v in fields.items()})


def test_dead_letters_need_permission(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="x-pass-123", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin-dead-letters")).status_code == 403
