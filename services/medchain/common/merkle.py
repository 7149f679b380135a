"""Merkle commitments to a round's cohort: root, inclusion and exclusion proofs over pseudonyms.

Construction (the ledger stores only the root, so every verifier must rebuild it the same way):

- The cohort is a set of pseudonyms, 64 lowercase hex characters each (32 bytes). The tree is built
  over the pseudonyms sorted ascending (hex order equals byte order), duplicates refused.
- leaf = SHA-256(0x00 || pseudonym bytes); node = SHA-256(0x01 || left || right). The one-byte
  prefixes keep a leaf from ever being passed off as an inner node (second-preimage attacks).
- A level with an odd number of nodes promotes its last node unchanged to the next level; it is
  neither duplicated nor hashed alone, so a proof for that node simply has no sibling there.
- The empty cohort's root is SHA-256 of the empty string, a value no leaf or node can take.

A proof carries the leaf's index and the tree's size, which fix the path's shape (where siblings sit
left or right, and where a node was promoted). Because the leaves are sorted, two leaves at adjacent
indices i and i+1 prove that no pseudonym strictly between them is in the cohort: that is the proof
of exclusion. The verifier trusts that the committer sorted the leaves; the root commits to order.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class InclusionProof:
    """Path from a leaf to the root: its sorted index, the tree size, sibling hashes (hex)."""

    index: int
    size: int
    siblings: tuple[str, ...]


@dataclass(frozen=True)
class Neighbour:
    """A cohort member next to the queried pseudonym, with its inclusion proof."""

    pseudonym: str
    proof: InclusionProof


@dataclass(frozen=True)
class ExclusionProof:
    """The members just below and just above an absent pseudonym; None past either end."""

    predecessor: Neighbour | None
    successor: Neighbour | None


def _check_pseudonym(pseudonym: str) -> bytes:
    if not _PSEUDONYM.fullmatch(pseudonym):
        raise ValueError(f"a pseudonym is 64 lowercase hex characters, got {pseudonym!r}")
    return bytes.fromhex(pseudonym)


def sorted_cohort(pseudonyms: Iterable[str]) -> list[str]:
    """The cohort in tree order, after checking every pseudonym and refusing duplicates."""
    ordered = sorted(pseudonyms)
    for pseudonym in ordered:
        _check_pseudonym(pseudonym)
    for left, right in itertools.pairwise(ordered):
        if left == right:
            raise ValueError(f"pseudonym {left} appears twice in the cohort")
    return ordered


def leaf_hash(pseudonym: str) -> bytes:
    """SHA-256(0x00 || pseudonym bytes)."""
    return hashlib.sha256(LEAF_PREFIX + _check_pseudonym(pseudonym)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root level (one node) last."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2 == 1:
            parents.append(level[-1])  # odd node promoted unchanged
        levels.append(parents)
    return levels


def merkle_root(pseudonyms: Iterable[str]) -> str:
    """Hex root over the sorted cohort; EMPTY_ROOT for an empty cohort."""
    ordered = sorted_cohort(pseudonyms)
    if not ordered:
        return EMPTY_ROOT
    return _levels([leaf_hash(p) for p in ordered])[-1][0].hex()


def _proof_at(levels: list[list[bytes]], index: int) -> InclusionProof:
    siblings: list[str] = []
    position = index
    for level in levels[:-1]:
        sibling = position ^ 1
        if sibling < len(level):
            siblings.append(level[sibling].hex())
        position //= 2
    return InclusionProof(index=index, size=len(levels[0]), siblings=tuple(siblings))


def inclusion_proof(pseudonyms: Iterable[str], pseudonym: str) -> InclusionProof:
    """Proof that `pseudonym` is in the cohort; ValueError if it is not."""
    ordered = sorted_cohort(pseudonyms)
    _check_pseudonym(pseudonym)
    position = _bisect(ordered, pseudonym)
    if position == len(ordered) or ordered[position] != pseudonym:
        raise ValueError(f"pseudonym {pseudonym} is not in the cohort")
    return _proof_at(_levels([leaf_hash(p) for p in ordered]), position)


def _root_from_path(pseudonym: str, proof: InclusionProof) -> bytes | None:
    """Recompute the root along the proof's path, or None if the path does not fit the size."""
    if not 0 <= proof.index < proof.size:
        return None
    current = leaf_hash(pseudonym)
    position, width = proof.index, proof.size
    if not all(_PSEUDONYM.fullmatch(sibling) for sibling in proof.siblings):
        return None  # every hash in a proof is 64 lowercase hex characters, like a pseudonym
    remaining = list(proof.siblings)
    while width > 1:
        if position % 2 == 1:
            if not remaining:
                return None
            current = node_hash(bytes.fromhex(remaining.pop(0)), current)
        elif position + 1 < width:
            if not remaining:
                return None
            current = node_hash(current, bytes.fromhex(remaining.pop(0)))
        position //= 2
        width = (width + 1) // 2
    return None if remaining else current


def verify_inclusion(
    root: str, pseudonym: str, proof: InclusionProof, *, size: int | None = None
) -> bool:
    """True iff the proof leads from `pseudonym`'s leaf to `root`.

    Membership needs no more. The proof's index is the member's sorted position only in a tree of
    the proof's size, and some paths fit two sizes (index 1 of 3 and of 4 look alike), so pass the
    committed cohort `size` from the ledger whenever the position matters.
    """
    if size is not None and proof.size != size:
        return False
    try:
        computed = _root_from_path(pseudonym, proof)
    except ValueError:  # malformed pseudonym or non-hex sibling
        return False
    return computed is not None and computed.hex() == root


def _bisect(ordered: Sequence[str], pseudonym: str) -> int:
    """Index of the first member not below `pseudonym`."""
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] < pseudonym:
            low = middle + 1
        else:
            high = middle
    return low


def exclusion_proof(pseudonyms: Iterable[str], pseudonym: str) -> ExclusionProof:
    """Proof that `pseudonym` is NOT in the cohort: its sorted neighbours; ValueError if it is."""
    ordered = sorted_cohort(pseudonyms)
    _check_pseudonym(pseudonym)
    position = _bisect(ordered, pseudonym)
    if position < len(ordered) and ordered[position] == pseudonym:
        raise ValueError(f"pseudonym {pseudonym} is in the cohort")
    if not ordered:
        return ExclusionProof(predecessor=None, successor=None)
    levels = _levels([leaf_hash(p) for p in ordered])
    predecessor = (
        Neighbour(ordered[position - 1], _proof_at(levels, position - 1)) if position > 0 else None
    )
    successor = (
        Neighbour(ordered[position], _proof_at(levels, position))
        if position < len(ordered)
        else None
    )
    return ExclusionProof(predecessor=predecessor, successor=successor)


def verify_exclusion(root: str, size: int, pseudonym: str, proof: ExclusionProof) -> bool:
    """True iff the proof shows `pseudonym` falls strictly between adjacent leaves of the tree."""
    try:
        _check_pseudonym(pseudonym)
    except ValueError:
        return False
    if size == 0:
        return root == EMPTY_ROOT and proof.predecessor is None and proof.successor is None
    before, after = proof.predecessor, proof.successor
    if before is None and after is None:
        return False
    if before is not None and not (
        before.pseudonym < pseudonym
        and verify_inclusion(root, before.pseudonym, before.proof, size=size)
    ):
        return False
    if after is not None and not (
        pseudonym < after.pseudonym
        and verify_inclusion(root, after.pseudonym, after.proof, size=size)
    ):
        return False
    if before is None:
        return after is not None and after.proof.index == 0
    if after is None:
        return before.proof.index == size - 1
    return after.proof.index == before.proof.index + 1
