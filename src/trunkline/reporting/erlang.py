"""Erlang B and Erlang C (M/M/n queue) estimates for a queue's wait, service level and staffing.

Pure functions: no clock, no I/O. Times are in seconds, traffic in erlangs (arrivals/s x AHT s).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

__all__ = [
    "ErlangEstimate",
    "agents_needed",
    "erlang_b",
    "erlang_c",
    "erlang_c_estimate",
    "expected_wait_s",
    "service_level",
]

# Formulas (Erlang's B- and C-formulas for M/M/n; see e.g. V. B. Iversen, "Teletraffic
# Engineering and Network Planning", ITU-D/DTU handbook, and L. Kleinrock, "Queueing Systems"
# vol. 1, the M/M/m queue). With offered traffic A = lambda * AHT and n agents:
#   Erlang B, by recursion:  B(0) = 1,  B(k) = A*B(k-1) / (k + A*B(k-1))
#   Erlang C from B:         C = n*B / (n - A*(1 - B))                   (valid for n > A)
#   mean wait (ASA):         W = C * AHT / (n - A)
#   service level:           P(wait <= t) = 1 - C * exp(-(n - A) * t / AHT)
# The recursion keeps every intermediate in [0, 1], so it never forms A**n or n!, which
# overflow a float from about n = 171; thousands of agents stay exact to rounding.

_DEFAULT_LIMIT = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ErlangEstimate:
    """Erlang C figures for one queue at its current arrival rate, handle time and staffing."""

    traffic_erlangs: float
    """Offered load A = arrivals per second x average handle time in seconds."""
    probability_of_wait: float
    """Probability that a new arrival finds every agent busy (0..1)."""
    expected_wait_s: float
    """Average speed of answer over all arrivals; ``math.inf`` when the queue is unstable."""
    service_level_percent: float
    """Expected percentage of arrivals answered within the threshold (0..100)."""
    agents_needed: int | None
    """Fewest agents meeting the target; ``None`` if no staffing up to 100,000 agents can."""
    occupancy: float
    """Expected share of staffed time spent handling, min(1, A / agents); 0.0 with no agents."""


def erlang_b(traffic_erlangs: float, agents: int) -> float:
    """Blocking probability of a loss system: ``agents`` servers offered ``traffic_erlangs``."""
    return _erlang_b(_finite_non_negative("traffic_erlangs", traffic_erlangs), _count(agents))


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Probability that an arrival waits in an M/M/n queue.

    1.0 when ``agents <= traffic_erlangs`` (the queue grows without bound, so every arrival
    waits); 0.0 with no traffic at all, however many agents there are.
    """
    return _erlang_c(_finite_non_negative("traffic_erlangs", traffic_erlangs), _count(agents))


def expected_wait_s(arrivals_per_s: float, aht_s: float, agents: int) -> float:
    """Average speed of answer in seconds, counting arrivals that did not wait as zero.

    ``math.inf`` when the queue is unstable (``agents <= traffic``); 0.0 with no traffic.
    """
    arrivals = _finite_non_negative("arrivals_per_s", arrivals_per_s)
    aht = _finite_non_negative("aht_s", aht_s)
    return _expected_wait(arrivals * aht, aht, _count(agents))


def service_level(arrivals_per_s: float, aht_s: float, agents: int, threshold_s: float) -> float:
    """Expected fraction (0..1) of arrivals answered within ``threshold_s`` seconds.

    0.0 when the queue is unstable (``agents <= traffic``); 1.0 with no traffic.
    """
    arrivals = _finite_non_negative("arrivals_per_s", arrivals_per_s)
    aht = _finite_non_negative("aht_s", aht_s)
    threshold = _finite_non_negative("threshold_s", threshold_s)
    return _service_level(arrivals * aht, aht, _count(agents), threshold)


def agents_needed(
    arrivals_per_s: float,
    aht_s: float,
    threshold_s: float,
    target_fraction: float,
    *,
    max_occupancy: float | None = None,
    limit: int = _DEFAULT_LIMIT,
) -> int:
    """Fewest agents whose service level reaches ``target_fraction`` within ``threshold_s``.

    Only stable staffing (more agents than erlangs) counts. With ``max_occupancy`` the answer
    also keeps the expected occupancy A / n at or below it. 0 with no traffic. Raises
    ``ValueError`` for invalid arguments, or when more than ``limit`` agents would be needed.
    """
    arrivals = _finite_non_negative("arrivals_per_s", arrivals_per_s)
    aht = _finite_non_negative("aht_s", aht_s)
    threshold = _finite_non_negative("threshold_s", threshold_s)
    target = _finite_non_negative("target_fraction", target_fraction)
    if target > 1.0:
        raise ValueError(f"target_fraction must be between 0 and 1, got {target_fraction!r}")
    if max_occupancy is not None and not 0.0 < max_occupancy <= 1.0:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    cap = _count(limit, name="limit")
    needed = _agents_needed(arrivals * aht, aht, threshold, target, max_occupancy, cap)
    if needed is None:
        raise ValueError(
            f"no staffing of at most {cap} agents reaches {target:.2%} within {threshold} s "
            f"for {arrivals * aht:.6g} erlangs"
        )
    return needed


def erlang_c_estimate(
    arrivals_per_s: float,
    aht_s: float,
    agents: int,
    threshold_s: float,
    target_percent: float,
) -> ErlangEstimate:
    """All Erlang C figures for a queue; never raises for non-negative finite inputs.

    No traffic gives no wait, a 100 % service level and 0 agents needed. Traffic with no
    agents (or no more agents than erlangs) gives a certain wait, an infinite expected wait
    and a 0 % service level; ``agents_needed`` is still computed. A target above 100 %, or
    one needing more than 100,000 agents, gives ``agents_needed=None``.
    """
    arrivals = _finite_non_negative("arrivals_per_s", arrivals_per_s)
    aht = _finite_non_negative("aht_s", aht_s)
    n = _count(agents)
    threshold = _finite_non_negative("threshold_s", threshold_s)
    target = _finite_non_negative("target_percent", target_percent) / 100.0
    # Can overflow to inf for absurd but finite inputs; every helper treats inf as unstable.
    traffic = arrivals * aht
    needed = (
        None
        if target > 1.0
        else _agents_needed(traffic, aht, threshold, target, None, _DEFAULT_LIMIT)
    )
    return ErlangEstimate(
        traffic_erlangs=traffic,
        probability_of_wait=_erlang_c(traffic, n),
        expected_wait_s=_expected_wait(traffic, aht, n),
        service_level_percent=100.0 * _service_level(traffic, aht, n, threshold),
        agents_needed=needed,
        occupancy=min(1.0, traffic / n) if n > 0 else 0.0,
    )


# --- internals: arguments already validated ---------------------------------------------


def _erlang_b(traffic: float, agents: int) -> float:
    # Erlang B recursion B(k) = A*B(k-1) / (k + A*B(k-1)), B(0) = 1: each step stays in
    # [0, 1], so no A**n / n! overflow however many agents.
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
        if b == 0.0:  # underflowed; the recursion would keep it 0 from here on
            break
    return b


def _erlang_c_from_b(traffic: float, agents: int, b: float) -> float:
    # Erlang C from Erlang B: C = n*B / (n - A*(1 - B)). Callers guarantee n > A > 0, so the
    # denominator is positive; min() only absorbs rounding.
    return min(1.0, agents * b / (agents - traffic * (1.0 - b)))


def _erlang_c(traffic: float, agents: int) -> float:
    if traffic == 0.0:
        return 0.0
    if agents <= traffic:
        return 1.0  # unstable: the queue grows without bound, every arrival waits
    return _erlang_c_from_b(traffic, agents, _erlang_b(traffic, agents))


def _expected_wait(traffic: float, aht: float, agents: int) -> float:
    if traffic == 0.0:
        return 0.0
    if agents <= traffic:
        return math.inf
    # ASA = C * AHT / (n - A)
    return _erlang_c(traffic, agents) * aht / (agents - traffic)


def _service_level_from_c(c: float, traffic: float, aht: float, agents: int, t: float) -> float:
    # P(wait <= t) = 1 - C * exp(-(n - A) * t / AHT); t / AHT first so a tiny AHT gives
    # exp(-inf) = 0 rather than inf * 0 = nan.
    return min(1.0, max(0.0, 1.0 - c * math.exp(-(agents - traffic) * (t / aht))))


def _service_level(traffic: float, aht: float, agents: int, threshold: float) -> float:
    if traffic == 0.0:
        return 1.0
    if agents <= traffic:
        return 0.0
    c = _erlang_c_from_b(traffic, agents, _erlang_b(traffic, agents))
    return _service_level_from_c(c, traffic, aht, agents, threshold)


def _agents_needed(
    traffic: float,
    aht: float,
    threshold: float,
    target: float,
    max_occupancy: float | None,
    limit: int,
) -> int | None:
    if traffic == 0.0:
        return 0
    if not traffic < limit:  # stability needs n > A, and n may not pass the limit
        return None
    # The smallest stable staffing: ceil(A), plus one when A is a whole number.
    n = math.floor(traffic) + 1
    if max_occupancy is not None:
        floor_for_occupancy = _min_agents_for_occupancy(traffic, max_occupancy, limit)
        if floor_for_occupancy is None:
            return None
        n = max(n, floor_for_occupancy)
    if n > limit:
        return None
    # The service level rises with n, so step up from the first candidate. Each step extends
    # the Erlang B recursion by one term, O(1), instead of recomputing B(n) from scratch:
    # the whole search costs O(answer), so 10,000 erlangs stays in the milliseconds, and the
    # values are bit-for-bit those that service_level() computes for the same n.
    b = _erlang_b(traffic, n)
    while True:
        c = _erlang_c_from_b(traffic, n, b)
        if _service_level_from_c(c, traffic, aht, n, threshold) >= target:
            return n
        if n >= limit:
            return None
        n += 1
        b = traffic * b / (n + traffic * b)


def _min_agents_for_occupancy(traffic: float, max_occupancy: float, limit: int) -> int | None:
    # Occupancy A / n <= max  <=>  n >= A / max; settle the rounding on the exact comparison
    # that callers (and tests) make, A / n <= max.
    estimate = traffic / max_occupancy
    if not estimate <= limit:
        return None
    n = max(1, math.ceil(estimate))
    while n > 1 and traffic / (n - 1) <= max_occupancy:
        n -= 1
    while traffic / n > max_occupancy:
        n += 1
    return n


def _finite_non_negative(name: str, value: float) -> float:
    if math.isnan(value) or value < 0.0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _count(value: int, *, name: str = "agents") -> int:
    count = operator.index(value)  # TypeError for 2.5; no silent truncation
    if count < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return count
