"""The API's sliding-window rate limit (core.throttle), with a clock the test moves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from core.throttle import SlidingWindowThrottle, parse_rate


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def throttle():
    cache.clear()
    limiter = SlidingWindowThrottle("3/m")
    limiter.timer = Clock(6_000_000.0)  # the start of a 60-second window
    yield limiter
    cache.clear()


def request_as(pk: int | None, address: str = "10.0.0.1"):
    request = RequestFactory().get("/api/v1/contacts", REMOTE_ADDR=address)
    request.auth = SimpleNamespace(pk=pk) if pk is not None else None
    return request


def test_the_limit_holds_per_user_and_a_refusal_says_how_long_to_wait(throttle):
    alice, bob = request_as(1), request_as(2)
    assert [throttle.allow_request(alice) for _ in range(4)] == [True, True, True, False]
    wait = throttle.wait()
    assert 0 < wait <= 120
    assert throttle.allow_request(bob)  # another user has a counter of their own
    throttle.timer.now += 30  # the same window: still refused, and refusals are not counted
    assert not throttle.allow_request(alice)
    # The next window starts with 3 in the previous one: at 15 s in, 3 x 0.75 = 2.25 < 3 lets one through.
    throttle.timer.now += 45
    assert throttle.allow_request(alice)
    assert not throttle.allow_request(alice)  # 2.25 + 1 >= 3
    throttle.timer.now += 120  # two windows later nothing is left of the burst
    assert [throttle.allow_request(alice) for _ in range(4)] == [True, True, True, False]


def test_the_wait_it_names_is_enough(throttle):
    alice = request_as(1)
    for _ in range(3):
        assert throttle.allow_request(alice)
    throttle.timer.now += 50
    assert not throttle.allow_request(alice)
    wait = throttle.wait()
    throttle.timer.now += wait - 1
    assert not throttle.allow_request(alice)
    throttle.timer.now += 1
    assert throttle.allow_request(alice)


def test_anonymous_requests_count_per_address(throttle):
    first, second = request_as(None, "10.0.0.1"), request_as(None, "10.0.0.2")
    assert [throttle.allow_request(first) for _ in range(4)] == [True, True, True, False]
    assert throttle.allow_request(second)


def test_the_counter_stays_two_small_integers_however_many_requests(throttle):
    throttle.num_requests = 100_000
    alice = request_as(1)
    for _ in range(500):
        assert throttle.allow_request(alice)
    window = int(throttle.timer.now // 60)
    assert cache.get(f"crm-rate:u1:{window}") == 500


@pytest.mark.parametrize(
    ("rate", "parsed"), [("1000/m", (1000, 60)), ("50/10s", (50, 10)), ("100000/min", (100_000, 60))]
)
def test_rates_parse(rate, parsed):
    assert parse_rate(rate) == parsed


@pytest.mark.parametrize("rate", ["", "fast", "10/", "0/m", "10/0s", "10/fortnight", "-5/m"])
def test_a_bad_rate_is_refused_at_start_up(rate):
    with pytest.raises(ValueError, match="Invalid rate"):
        SlidingWindowThrottle(rate)
