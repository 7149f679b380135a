"""Cohort Merkle trees: exact vectors, proofs of inclusion and exclusion, and tampering."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medchain.common.merkle import (
    EMPTY_ROOT,
    ExclusionProof,
    InclusionProof,
    Neighbour,
    exclusion_proof,
    inclusion_proof,
    merkle_root,
    verify_exclusion,
    verify_inclusion,
)

A, B, C = "00" * 32, "11" * 32, "22" * 32
# Computed outside Python with coreutils, e.g. leaf A:
#   (printf '\x00'; head -c 32 /dev/zero) | sha256sum
LEAF_A = "7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9"
LEAF_B = "4635e1fa62a599a7880a8d14a56f720a1d40f6e5448ab5a5e39bedc8bd87fa8e"
LEAF_C = "bc6f27de60abf5319d16ff4c98fe3c42022c84f6a7a2b207c8df19b0ec3d8d58"
NODE_AB = "8ab671c69294e69917042ed794e5ea9dda18710ca307a65b986226344b87552a"
ROOT_ABC = "cfdd57c49cf0b23df41b9ff2fce70eed9d15fd0242a185dbdb5b918f8b140cce"


def _leaf(p: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(p)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _pseudonym(i: int) -> str:
    return f"{i:064x}"


def test_empty_cohort_root_is_sha256_of_nothing() -> None:
    assert merkle_root([]) == EMPTY_ROOT
    assert EMPTY_ROOT == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_hand_computed_vectors() -> None:
    assert merkle_root([A]) == LEAF_A
    assert merkle_root([A, B]) == NODE_AB
    # C is promoted at the leaf level, then paired with node(A, B).
    assert merkle_root([A, B, C]) == ROOT_ABC


def test_root_is_over_the_sorted_cohort() -> None:
    assert merkle_root([C, A, B]) == ROOT_ABC


def test_five_leaves_promote_at_two_levels() -> None:
    ps = [_pseudonym(i) for i in range(5)]
    leaves = [_leaf(p) for p in ps]
    n01, n23 = _node(leaves[0], leaves[1]), _node(leaves[2], leaves[3])
    expected = _node(_node(n01, n23), leaves[4])
    assert merkle_root(ps) == expected.hex()
    proof = inclusion_proof(ps, ps[4])
    assert proof == InclusionProof(index=4, size=5, siblings=(_node(n01, n23).hex(),))
    assert inclusion_proof(ps, ps[2]).siblings == (
        leaves[3].hex(),
        n01.hex(),
        leaves[4].hex(),
    )


def test_inclusion_proof_of_the_hand_computed_tree() -> None:
    assert inclusion_proof([A, B, C], B) == InclusionProof(1, 3, (LEAF_A, LEAF_C))
    assert verify_inclusion(ROOT_ABC, B, InclusionProof(1, 3, (LEAF_A, LEAF_C)))


@pytest.mark.parametrize(
    "bad",
    [
        InclusionProof(0, 3, (LEAF_A, LEAF_C)),  # wrong index
        InclusionProof(1, 4, (LEAF_A, LEAF_C)),  # wrong size
        InclusionProof(1, 3, (LEAF_C, LEAF_A)),  # siblings swapped
        InclusionProof(1, 3, (LEAF_A,)),  # too short
        InclusionProof(1, 3, (LEAF_A, LEAF_C, LEAF_C)),  # too long
        InclusionProof(1, 3, (LEAF_A, "zz" * 32)),  # not hex
        InclusionProof(3, 3, ()),  # index out of range
    ],
)
def test_tampered_inclusion_proofs_fail(bad: InclusionProof) -> None:
    assert not verify_inclusion(ROOT_ABC, B, bad, size=3)


def test_position_is_bound_only_with_the_committed_size() -> None:
    # C's path (promoted, then right of node(A, B)) also reads as index 1 of a 2-leaf tree: it
    # proves membership either way, but only the ledger's size pins the position.
    as_if_two = InclusionProof(1, 2, (NODE_AB,))
    assert verify_inclusion(ROOT_ABC, C, as_if_two)
    assert not verify_inclusion(ROOT_ABC, C, as_if_two, size=3)
    assert verify_inclusion(ROOT_ABC, C, inclusion_proof([A, B, C], C), size=3)


def test_a_node_cannot_pass_as_a_leaf() -> None:
    # The inner node (A, B) is 32 bytes like a pseudonym; the prefixes keep it from verifying.
    assert not verify_inclusion(ROOT_ABC, NODE_AB, InclusionProof(0, 2, (LEAF_C,)))


@pytest.mark.parametrize("bad", ["AB" * 32, "00" * 31, "g" * 64])
def test_malformed_pseudonyms_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        merkle_root([bad])


def test_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        merkle_root([A, A])


def test_exclusion_between_two_members() -> None:
    absent = "1" + "0" * 63  # between A and B
    proof = exclusion_proof([A, B, C], absent)
    assert proof.predecessor == Neighbour(A, InclusionProof(0, 3, (LEAF_B, LEAF_C)))
    assert proof.successor == Neighbour(B, InclusionProof(1, 3, (LEAF_A, LEAF_C)))
    assert verify_exclusion(ROOT_ABC, 3, absent, proof)


def test_exclusion_past_either_end() -> None:
    below, above = "0" * 63 + "1", "f" * 64
    low = exclusion_proof([B, C], below)
    assert low.predecessor is None
    assert low.successor is not None
    assert low.successor.pseudonym == B
    assert verify_exclusion(merkle_root([B, C]), 2, below, low)
    high = exclusion_proof([A, B, C], above)
    assert high.successor is None
    assert verify_exclusion(ROOT_ABC, 3, above, high)


def test_exclusion_from_the_empty_cohort() -> None:
    proof = exclusion_proof([], A)
    assert proof == ExclusionProof(None, None)
    assert verify_exclusion(EMPTY_ROOT, 0, A, proof)
    assert not verify_exclusion(ROOT_ABC, 3, A, proof)


def test_members_have_no_exclusion_proof_and_strangers_no_inclusion_proof() -> None:
    with pytest.raises(ValueError, match="is in the cohort"):
        exclusion_proof([A, B, C], B)
    with pytest.raises(ValueError, match="not in the cohort"):
        inclusion_proof([A, C], B)


def test_non_adjacent_neighbours_do_not_prove_exclusion() -> None:
    # A and C are both members, but B sits between them: skipping it must not verify.
    absent = "1" + "0" * 63
    forged = ExclusionProof(
        Neighbour(A, inclusion_proof([A, B, C], A)),
        Neighbour(C, inclusion_proof([A, B, C], C)),
    )
    assert not verify_exclusion(ROOT_ABC, 3, absent, forged)


def test_member_cannot_be_shown_absent_with_its_own_neighbours() -> None:
    forged = ExclusionProof(
        Neighbour(A, inclusion_proof([A, B, C], A)),
        Neighbour(B, inclusion_proof([A, B, C], B)),
    )
    assert not verify_exclusion(ROOT_ABC, 3, B, forged)  # B is not strictly between A and B


def test_end_claims_need_the_end_positions() -> None:
    above = "f" * 64
    proof = exclusion_proof([A, B, C], above)
    assert proof.predecessor is not None
    truncated = ExclusionProof(Neighbour(B, inclusion_proof([A, B, C], B)), None)
    assert not verify_exclusion(ROOT_ABC, 3, above, truncated)
    assert not verify_exclusion(ROOT_ABC, 4, above, proof)  # size must match the ledger's


cohorts = st.sets(st.integers(min_value=0, max_value=2**20), min_size=0, max_size=40)


@settings(max_examples=60, deadline=None)
@given(members=cohorts, shuffle_seed=st.randoms(use_true_random=False))
def test_every_member_verifies_and_order_does_not_matter(
    members: set[int], shuffle_seed: random.Random
) -> None:
    ps = [_pseudonym(i) for i in members]
    root = merkle_root(ps)
    shuffled = list(ps)
    shuffle_seed.shuffle(shuffled)
    assert merkle_root(shuffled) == root
    for p in ps:
        proof = inclusion_proof(ps, p)
        assert verify_inclusion(root, p, proof)
        if len(ps) > 1:
            moved = replace(proof, index=(proof.index + 1) % len(ps))
            assert not verify_inclusion(root, p, moved, size=len(ps))


@settings(max_examples=60, deadline=None)
@given(members=cohorts, probe=st.integers(min_value=0, max_value=2**20 + 1))
def test_non_members_verify_exclusion_and_members_cannot(members: set[int], probe: int) -> None:
    ps = [_pseudonym(i) for i in members]
    root, p = merkle_root(ps), _pseudonym(probe)
    if probe in members:
        proof = inclusion_proof(ps, p)
        assert verify_inclusion(root, p, proof)
        with pytest.raises(ValueError, match="is in the cohort"):
            exclusion_proof(ps, p)
        return
    proof_out = exclusion_proof(ps, p)
    assert verify_exclusion(root, len(ps), p, proof_out)
    others = [_pseudonym(i) for i in members | {probe}]
    assert not verify_exclusion(merkle_root(others), len(others), p, proof_out)
