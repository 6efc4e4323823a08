"""Small answer builders for the instrument tests (values follow the published item ranges)."""

from __future__ import annotations


def items(prefix: str, values: list[int], start: int = 1) -> dict[str, object]:
    """{"q1": values[0], "q2": values[1], …}."""
    return {f"{prefix}{number}": value for number, value in enumerate(values, start=start)}


def spread(total: int, count: int, item_max: int) -> list[int]:
    """`count` item values in 0..item_max summing to `total`, filled front to back."""
    assert 0 <= total <= count * item_max
    values = []
    remaining = total
    for _ in range(count):
        value = min(item_max, remaining)
        values.append(value)
        remaining -= value
    return values
