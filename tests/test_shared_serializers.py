"""`mojito.api.shared_serializer`: one bound serializer tree per process, shared by threads."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from rest_framework import serializers

from mojito.api import shared_serializer


class LeafSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    at = serializers.DateTimeField()


class NodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    leaf = LeafSerializer()
    leaves = LeafSerializer(many=True)
    tags = serializers.ListField(child=serializers.CharField())


def node(number: int) -> SimpleNamespace:
    def leaf(index: int) -> SimpleNamespace:
        at = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(minutes=number, seconds=index)
        return SimpleNamespace(id=number * 100 + index, name=f"leaf {number}.{index}", at=at)

    return SimpleNamespace(
        id=number,
        leaf=leaf(0),
        leaves=[leaf(index) for index in range(number % 4)],
        tags=[f"tag {number}"] * (number % 3),
    )


def test_each_serializer_class_has_one_shared_instance() -> None:
    shared = shared_serializer(NodeSerializer)

    assert shared_serializer(NodeSerializer) is shared
    assert isinstance(shared, NodeSerializer)
    assert shared_serializer(LeafSerializer) is not shared


def test_the_shared_tree_renders_as_a_new_serializer_does() -> None:
    for number in range(8):
        assert shared_serializer(NodeSerializer).to_representation(node(number)) == (
            NodeSerializer(node(number)).data
        )


def test_threads_rendering_with_the_shared_tree_get_their_own_answers() -> None:
    def render(number: int) -> dict[str, Any]:
        return shared_serializer(NodeSerializer).to_representation(node(number))

    numbers = range(1000)
    expected = [NodeSerializer(node(number)).data for number in numbers]
    interval = sys.getswitchinterval()
    # Switch threads every few bytecodes rather than every 5 ms, so that renderings interleave.
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(render, numbers))
    finally:
        sys.setswitchinterval(interval)
    assert answers == expected
