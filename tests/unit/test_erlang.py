"""Erlang B/C estimates: published tables and worked examples, exact formulas, properties."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.reporting.erlang import (
    ErlangEstimate,
    agents_needed,
    erlang_b,
    erlang_c,
    erlang_c_estimate,
    expected_wait_s,
    service_level,
)

# --- Published reference values ----------------------------------------------------------
#
# [CCH] Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
#       (callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls per 30 minutes,
#       AHT 180 s (A = 10 erlangs), target 80 % answered in 20 s, maximum occupancy 85 %.
#       With 11 agents: P(wait) 68.21 %, ASA 122.8 s; the target first holds at 14 agents
#       (service level 88.8 %, occupancy 71.4 %).
# [PWF] The same example as asserted by pyworkforce's test suite (rodrigo-arenas/pyworkforce,
#       pyworkforce/queuing/tests/test_erlang.py): 14 agents, SL 0.888, occupancy 0.714,
#       P(wait) 0.174; capped at 70 % occupancy: 15 agents, SL 0.941, occupancy 0.667,
#       P(wait) 0.102.
# [WB]  Westbay Engineers, "The Erlang-C formula" (erlang.com): 360 calls per half hour,
#       4-minute calls, 55 agents, 15 s target: A = 48 erlangs, occupancy 0.873,
#       P(wait) 0.2387 (24 %), ASA 8.2 s, service level 85 %.
# [EB]  Erlang B capacity tables (traffic in erlangs that n circuits carry at a given grade
#       of service), as printed in teletraffic texts, e.g. n = 10: 3.961 E at 0.5 %,
#       4.461 E at 1 %, 5.084 E at 2 %.

CCH_ARRIVALS_PER_S = 100 / 1800
CCH_AHT_S = 180.0
WB_ARRIVALS_PER_S = 360 / 1800
WB_AHT_S = 240.0

THREE_DP = 5e-4


@pytest.mark.parametrize(
    ("agents", "grade_of_service", "table_erlangs", "decimals"),
    [
        (5, 0.01, 1.361, 3),
        (10, 0.005, 3.961, 3),
        (10, 0.01, 4.461, 3),
        (10, 0.02, 5.084, 3),
        (20, 0.01, 12.03, 2),
        (50, 0.01, 37.90, 2),
        (100, 0.01, 84.06, 2),
    ],
)
def test_erlang_b_matches_the_published_capacity_table(
    agents: int, grade_of_service: float, table_erlangs: float, decimals: int
) -> None:
    # [EB] The table prints the traffic rounded to `decimals`, so the grade of service must
    # fall between the blocking at the two ends of that rounding interval (B rises with A).
    half = 0.5 * 10.0**-decimals
    assert erlang_b(table_erlangs - half, agents) <= grade_of_service
    assert erlang_b(table_erlangs + half, agents) >= grade_of_service


def test_erlang_b_five_erlangs_on_ten_circuits() -> None:
    # [EB] A = 5 E offered to 10 circuits loses 1.84 % of calls.
    assert erlang_b(5.0, 10) == pytest.approx(0.0184, abs=5e-5)


@pytest.mark.parametrize(
    ("agents", "probability_of_wait"),
    [(11, 0.682), (12, 0.449), (13, 0.285), (14, 0.174), (15, 0.102)],
)
def test_erlang_c_table_for_ten_erlangs(agents: int, probability_of_wait: float) -> None:
    # The A = 10 E row: [CCH] 11 agents 68.21 %, [PWF] 14 agents 0.174 and 15 agents 0.102.
    # 12 and 13 agents complete the row; every entry is also held to the exact rational
    # textbook formula, so the row does not rest on the quoted figures alone.
    assert erlang_c(10.0, agents) == pytest.approx(probability_of_wait, abs=THREE_DP)
    exact = float(_erlang_c_exact(Fraction(10), agents))
    assert erlang_c(10.0, agents) == pytest.approx(exact, rel=1e-12)


def test_call_centre_helper_worked_example_with_eleven_agents() -> None:
    # [CCH] 11 agents: P(wait) 68.21 %, ASA 122.8 s, service level 1 - 0.6821 e^(-20/180).
    estimate = erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, 11, 20.0, 80.0)
    assert estimate.traffic_erlangs == pytest.approx(10.0)
    assert estimate.probability_of_wait == pytest.approx(0.6821, abs=5e-5)
    assert estimate.expected_wait_s == pytest.approx(122.8, abs=0.05)
    assert estimate.service_level_percent / 100 == pytest.approx(0.390, abs=THREE_DP)
    assert estimate.occupancy == pytest.approx(10 / 11)
    assert estimate.agents_needed == 14


def test_call_centre_helper_worked_example_needs_fourteen_agents() -> None:
    # [CCH]/[PWF] 80 % in 20 s first holds at 14 agents: SL 0.888, occupancy 0.714,
    # P(wait) 0.174; 13 agents fall short (0.796).
    assert agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.80) == 14
    assert service_level(CCH_ARRIVALS_PER_S, CCH_AHT_S, 13, 20.0) == pytest.approx(
        0.796, abs=THREE_DP
    )
    estimate = erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, 14, 20.0, 80.0)
    assert estimate.service_level_percent / 100 == pytest.approx(0.888, abs=THREE_DP)
    assert estimate.occupancy == pytest.approx(0.714, abs=THREE_DP)
    assert estimate.probability_of_wait == pytest.approx(0.174, abs=THREE_DP)
    assert estimate.expected_wait_s == pytest.approx(7.836, abs=THREE_DP)
    # The 85 % occupancy cap of the example does not bind at 14 agents.
    assert agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.80, max_occupancy=0.85) == 14


def test_call_centre_helper_worked_example_capped_at_seventy_percent_occupancy() -> None:
    # [PWF] With occupancy at most 70 %, 14 agents (71.4 %) are not enough: 15 agents,
    # SL 0.941, occupancy 0.667, P(wait) 0.102.
    needed = agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.80, max_occupancy=0.70)
    assert needed == 15
    estimate = erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, needed, 20.0, 80.0)
    assert estimate.service_level_percent / 100 == pytest.approx(0.941, abs=THREE_DP)
    assert estimate.occupancy == pytest.approx(0.667, abs=THREE_DP)
    assert estimate.probability_of_wait == pytest.approx(0.102, abs=THREE_DP)


def test_westbay_worked_example() -> None:
    # [WB] 48 E on 55 agents: occupancy 0.873, P(wait) 0.2387, ASA 8.2 s, SL 85 % in 15 s.
    estimate = erlang_c_estimate(WB_ARRIVALS_PER_S, WB_AHT_S, 55, 15.0, 80.0)
    assert estimate.traffic_erlangs == pytest.approx(48.0)
    assert estimate.occupancy == pytest.approx(0.873, abs=THREE_DP)
    assert estimate.probability_of_wait == pytest.approx(0.2387, abs=5e-5)
    assert estimate.expected_wait_s == pytest.approx(8.184, abs=THREE_DP)
    assert estimate.service_level_percent / 100 == pytest.approx(0.846, abs=THREE_DP)
    # 80 % in 15 s first holds at 55 agents; 54 reach only 79.3 %.
    assert estimate.agents_needed == 55
    assert service_level(WB_ARRIVALS_PER_S, WB_AHT_S, 54, 15.0) < 0.80


# --- Exact and independent formulas ------------------------------------------------------


def _erlang_b_exact(traffic: Fraction, agents: int) -> Fraction:
    # Textbook definition, in exact rational arithmetic: (A^n/n!) / sum_{k<=n} A^k/k!.
    terms = [traffic**k / math.factorial(k) for k in range(agents + 1)]
    return terms[-1] / sum(terms)


def _erlang_c_exact(traffic: Fraction, agents: int) -> Fraction:
    # (A^n/n! * n/(n-A)) / (sum_{k<n} A^k/k! + A^n/n! * n/(n-A))
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (below + top)


def _erlang_c_log_space(traffic: float, agents: int) -> float:
    # The same formula via log-gamma and log-sum-exp: independent of the recursion and safe
    # from overflow, used to check large pools.
    logs = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    log_top = (
        agents * math.log(traffic) - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    )
    peak = max(*logs, log_top)
    below = math.fsum(math.exp(x - peak) for x in logs)
    top = math.exp(log_top - peak)
    return top / (below + top)


small_traffic = st.builds(
    Fraction, st.integers(min_value=1, max_value=200), st.integers(min_value=1, max_value=10)
)


@given(traffic=small_traffic, agents=st.integers(min_value=0, max_value=40))
def test_erlang_b_equals_the_exact_definition(traffic: Fraction, agents: int) -> None:
    expected = float(_erlang_b_exact(traffic, agents))
    assert erlang_b(float(traffic), agents) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@given(traffic=small_traffic, extra=st.integers(min_value=0, max_value=15))
def test_erlang_c_equals_the_exact_definition(traffic: Fraction, extra: int) -> None:
    agents = math.floor(traffic) + 1 + extra  # stable: n > A
    expected = float(_erlang_c_exact(traffic, agents))
    assert erlang_c(float(traffic), agents) == pytest.approx(expected, rel=1e-11, abs=1e-300)


@given(rho=st.floats(min_value=0.001, max_value=0.999), aht=st.floats(min_value=1, max_value=900))
def test_single_agent_matches_mm1_closed_forms(rho: float, aht: float) -> None:
    # M/M/1: P(wait) = rho, Wq = rho * AHT / (1 - rho), P(wait <= t) = 1 - rho e^{-(1-rho)t/AHT}.
    arrivals = rho / aht
    traffic = arrivals * aht
    assert erlang_c(traffic, 1) == pytest.approx(traffic, rel=1e-12)
    assert expected_wait_s(arrivals, aht, 1) == pytest.approx(
        traffic * aht / (1 - traffic), rel=1e-9
    )
    assert service_level(arrivals, aht, 1, 30.0) == pytest.approx(
        1 - traffic * math.exp(-(1 - traffic) * 30.0 / aht), rel=1e-9, abs=1e-12
    )


@given(traffic=st.floats(min_value=0.001, max_value=1.999))
def test_two_agents_match_mm2_closed_form(traffic: float) -> None:
    # M/M/2 with rho = A/2: P(wait) = 2 rho^2 / (1 + rho); Erlang B(2) = (A^2/2)/(1+A+A^2/2).
    rho = traffic / 2
    assert erlang_c(traffic, 2) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)
    assert erlang_b(traffic, 2) == pytest.approx(
        traffic**2 / 2 / (1 + traffic + traffic**2 / 2), rel=1e-12
    )


def test_large_pool_is_numerically_stable() -> None:
    # 5,000 erlangs on 5,100 agents: A**n and n! overflow a float long before this.
    probability = erlang_c(5000.0, 5100)
    assert probability == pytest.approx(_erlang_c_log_space(5000.0, 5100), rel=1e-9)
    assert 0.0 < probability < 1.0
    assert 0.0 < erlang_b(5000.0, 5100) < probability  # delay exceeds loss for n > A
    wait = expected_wait_s(5000 / 300, 300.0, 5100)
    level = service_level(5000 / 300, 300.0, 5100, 20.0)
    assert math.isfinite(wait) and wait == pytest.approx(probability * 300 / 100, rel=1e-9)
    assert 0.0 < level < 1.0


def test_ten_thousand_erlangs_staffing_is_exact() -> None:
    arrivals, aht = 10_000 / 180, 180.0
    needed = agents_needed(arrivals, aht, 20.0, 0.80)
    assert service_level(arrivals, aht, needed, 20.0) >= 0.80
    assert service_level(arrivals, aht, needed - 1, 20.0) < 0.80
    assert erlang_c_estimate(arrivals, aht, 10_000, 20.0, 80.0).agents_needed == needed


# --- Properties --------------------------------------------------------------------------

arrival_rates = st.floats(min_value=0.0005, max_value=2.0)
handle_times = st.floats(min_value=5.0, max_value=900.0)
thresholds = st.floats(min_value=0.0, max_value=600.0)


@given(
    arrivals=arrival_rates,
    aht=handle_times,
    threshold=thresholds,
    extra=st.integers(min_value=0, max_value=60),
)
def test_more_agents_never_make_the_queue_worse(
    arrivals: float, aht: float, threshold: float, extra: int
) -> None:
    traffic = arrivals * aht
    n = math.floor(traffic) + extra  # from the last unstable staffing upwards
    assert erlang_c(traffic, n + 1) <= erlang_c(traffic, n)
    assert expected_wait_s(arrivals, aht, n + 1) <= expected_wait_s(arrivals, aht, n)
    assert service_level(arrivals, aht, n + 1, threshold) >= service_level(
        arrivals, aht, n, threshold
    )
    if n > traffic:  # below the tail's underflow these are strict
        assert erlang_c(traffic, n + 1) < erlang_c(traffic, n) or erlang_c(traffic, n) == 0.0


@given(traffic=st.floats(min_value=0.0, max_value=500.0), agents=st.integers(0, 600))
def test_probabilities_stay_in_range_and_delay_is_at_least_loss(
    traffic: float, agents: int
) -> None:
    b, c = erlang_b(traffic, agents), erlang_c(traffic, agents)
    assert 0.0 <= b <= 1.0
    assert 0.0 <= c <= 1.0
    if agents > traffic > 0:
        assert c >= b


def _acceptable(
    arrivals: float, aht: float, n: int, threshold: float, target: float, cap: float | None
) -> bool:
    traffic = arrivals * aht
    return (
        n > traffic
        and service_level(arrivals, aht, n, threshold) >= target
        and (cap is None or traffic / n <= cap)
    )


@given(
    arrivals=arrival_rates,
    aht=handle_times,
    threshold=thresholds,
    target=st.floats(min_value=0.0, max_value=0.99),
    cap=st.none() | st.floats(min_value=0.3, max_value=1.0),
)
def test_agents_needed_is_the_smallest_acceptable_staffing(
    arrivals: float, aht: float, threshold: float, target: float, cap: float | None
) -> None:
    needed = agents_needed(arrivals, aht, threshold, target, max_occupancy=cap)
    assert _acceptable(arrivals, aht, needed, threshold, target, cap)
    assert not _acceptable(arrivals, aht, needed - 1, threshold, target, cap)


# --- Degenerate cases --------------------------------------------------------------------


@pytest.mark.parametrize(("arrivals", "aht"), [(0.0, 180.0), (0.5, 0.0), (0.0, 0.0)])
@pytest.mark.parametrize("agents", [0, 1, 25])
def test_no_traffic_means_no_wait(arrivals: float, aht: float, agents: int) -> None:
    assert erlang_c_estimate(arrivals, aht, agents, 20.0, 80.0) == ErlangEstimate(
        traffic_erlangs=0.0,
        probability_of_wait=0.0,
        expected_wait_s=0.0,
        service_level_percent=100.0,
        agents_needed=0,
        occupancy=0.0,
    )
    assert agents_needed(arrivals, aht, 20.0, 0.8, max_occupancy=0.85) == 0


def test_no_agents_with_traffic() -> None:
    estimate = erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, 0, 20.0, 80.0)
    assert estimate.probability_of_wait == 1.0
    assert estimate.expected_wait_s == math.inf
    assert estimate.service_level_percent == 0.0
    assert estimate.occupancy == 0.0
    assert estimate.agents_needed == 14


@pytest.mark.parametrize("agents", [1, 9, 10])
def test_too_few_agents_is_an_unstable_queue(agents: int) -> None:
    # 10 erlangs on 10 agents or fewer: the queue grows without bound.
    assert erlang_c(10.0, agents) == 1.0
    assert expected_wait_s(CCH_ARRIVALS_PER_S, CCH_AHT_S, agents) == math.inf
    assert service_level(CCH_ARRIVALS_PER_S, CCH_AHT_S, agents, 20.0) == 0.0
    estimate = erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, agents, 20.0, 80.0)
    assert estimate.occupancy == 1.0
    assert estimate.agents_needed == 14


def test_zero_threshold_service_level_is_immediate_answer() -> None:
    level = service_level(CCH_ARRIVALS_PER_S, CCH_AHT_S, 11, 0.0)
    assert level == pytest.approx(1 - erlang_c(10.0, 11), rel=1e-12)


def test_zero_target_needs_the_smallest_stable_staffing() -> None:
    assert agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.0) == 11  # A = 10 exactly
    assert agents_needed(0.05, 190.0, 20.0, 0.0) == 10  # A = 9.5


def test_occupancy_cap_is_met_exactly_despite_rounding() -> None:
    # A = 10.5 E at a 70 % cap: 15 agents are exactly 70 % busy, though 10.5 / 0.7 rounds
    # to 15.000000000000002 in floating point; 16 would be one agent too many.
    assert 10.5 / 0.7 > 15
    assert agents_needed(0.0625, 168.0, 20.0, 0.0, max_occupancy=0.7) == 15


def test_unreachable_targets_give_none_in_the_estimate_and_raise_in_agents_needed() -> None:
    assert erlang_c_estimate(CCH_ARRIVALS_PER_S, CCH_AHT_S, 14, 20.0, 150.0).agents_needed is None
    huge = erlang_c_estimate(1_000.0, 1_000.0, 50, 20.0, 80.0)  # a million erlangs
    assert huge.agents_needed is None
    assert huge.service_level_percent == 0.0
    assert erlang_c_estimate(1e200, 1e200, 5, 20.0, 80.0).probability_of_wait == 1.0
    with pytest.raises(ValueError, match="no staffing of at most 12 agents"):
        agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.8, limit=12)
    assert agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 0.8, limit=14) == 14


def test_full_target_is_met_to_machine_precision() -> None:
    needed = agents_needed(CCH_ARRIVALS_PER_S, CCH_AHT_S, 20.0, 1.0)
    assert service_level(CCH_ARRIVALS_PER_S, CCH_AHT_S, needed, 20.0) == 1.0
    assert service_level(CCH_ARRIVALS_PER_S, CCH_AHT_S, needed - 1, 20.0) < 1.0


# --- Invalid input -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
@pytest.mark.parametrize("name", ["arrivals_per_s", "aht_s", "threshold_s", "target_percent"])
def test_estimate_rejects_negative_nan_and_infinite_inputs(bad: float, name: str) -> None:
    arguments = {
        "arrivals_per_s": 0.1,
        "aht_s": 180.0,
        "agents": 20,
        "threshold_s": 20.0,
        "target_percent": 80.0,
    }
    arguments[name] = bad
    with pytest.raises(ValueError, match=name):
        erlang_c_estimate(**arguments)  # type: ignore[arg-type]


def test_negative_agents_are_rejected() -> None:
    with pytest.raises(ValueError, match="agents must be >= 0"):
        erlang_c_estimate(0.1, 180.0, -1, 20.0, 80.0)
    with pytest.raises(ValueError, match="agents"):
        erlang_c(1.0, -3)
    with pytest.raises(TypeError):
        erlang_b(1.0, 2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-0.5, math.nan])
def test_every_function_rejects_bad_traffic_inputs(bad: float) -> None:
    with pytest.raises(ValueError, match="traffic_erlangs"):
        erlang_b(bad, 3)
    with pytest.raises(ValueError, match="traffic_erlangs"):
        erlang_c(bad, 3)
    with pytest.raises(ValueError, match="arrivals_per_s"):
        expected_wait_s(bad, 180.0, 3)
    with pytest.raises(ValueError, match="aht_s"):
        service_level(0.1, bad, 3, 20.0)
    with pytest.raises(ValueError, match="threshold_s"):
        agents_needed(0.1, 180.0, bad, 0.8)


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"target_fraction": 1.2}, "target_fraction must be between 0 and 1"),
        ({"target_fraction": math.nan}, "target_fraction"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"max_occupancy": 1.5}, "max_occupancy"),
        ({"max_occupancy": math.nan}, "max_occupancy"),
        ({"limit": -1}, "limit must be >= 0"),
    ],
)
def test_agents_needed_rejects_bad_targets(keywords: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {"target_fraction": 0.8, **keywords}
    with pytest.raises(ValueError, match=message):
        agents_needed(0.1, 180.0, 20.0, **arguments)  # type: ignore[arg-type]
