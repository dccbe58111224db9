"""The engine contract's hit policy is one rule in two forms: per person (rete, explain) and over arrays
(vectorized, dask). Both forms keep the same matches for any set of matches."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from subsidy_engine.engines.contract import choose, choose_arrays

matches = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 3).map(lambda k: k * 5000)),
    max_size=30,
    unique_by=lambda m: (m[0], m[1]),
)


@given(matches, st.sampled_from(["collect", "highest", "first"]))
def test_per_person_and_array_forms_keep_the_same_rules(
    found: list[tuple[int, int, int]], policy: str
) -> None:
    idx = np.array([m[0] for m in found], dtype=np.int64)
    rule_k = np.array([m[1] for m in found], dtype=np.int64)
    amounts = np.array([m[2] for m in found], dtype=np.int64)
    i, k, _ = choose_arrays(policy, idx, rule_k, amounts)
    by_array = sorted(zip(i.tolist(), k.tolist(), strict=True))
    by_person = sorted(
        (person, rule)
        for person in {m[0] for m in found}
        for rule in choose(policy, [(m[1], m[2]) for m in found if m[0] == person])
    )
    assert by_array == by_person


def test_highest_takes_the_larger_amount_and_the_earlier_rule_on_a_tie() -> None:
    assert choose("highest", [(0, 5000), (1, 38000), (2, 19000)]) == [1]
    assert choose("highest", [(2, 5000), (1, 5000)]) == [1]
    assert choose("first", [(2, 100), (1, 5000)]) == [1]
    assert choose("collect", [(2, 100), (1, 5000)]) == [1, 2]
