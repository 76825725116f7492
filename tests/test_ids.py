"""Signed visitor ids, request ids and the other identifiers."""

from __future__ import annotations

import os
import re
import uuid

from hypothesis import given
from hypothesis import strategies as st

from footfall import ids
from footfall.ids import VisitorSigner

SIGNER = VisitorSigner(b"k" * 32)


def test_signed_ids_are_uuid4_and_verify_only_for_their_site() -> None:
    vid = SIGNER.new("site-a")
    parsed = uuid.UUID(vid)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == vid
    assert SIGNER.verify("site-a", vid) and SIGNER.verify("site-a", vid.upper())
    assert not SIGNER.verify("site-b", vid)
    assert not VisitorSigner(b"other" * 8).verify("site-a", vid)


@given(st.integers(min_value=0, max_value=35), st.sampled_from("0123456789abcdef"))
def test_any_single_character_change_fails_verification(position: int, char: str) -> None:
    vid = SIGNER.new("site")
    if vid[position] in "-" + char:
        return
    assert not SIGNER.verify("site", vid[:position] + char + vid[position + 1 :])


def test_random_uuids_do_not_verify() -> None:
    assert not any(SIGNER.verify("site", str(uuid.uuid4())) for _ in range(2000))
    assert not SIGNER.verify("site", None) and not SIGNER.verify("site", "x" * 36)


def test_request_and_session_ids_have_the_documented_shapes() -> None:
    assert re.fullmatch(r"1708102555327\.[A-Za-z0-9]{6}", ids.request_id(1708102555327))
    sid = ids.session_id()
    assert sid[0] == "s" and uuid.UUID(sid[1:]).version == 4 and len(sid) == 37
    assert re.fullmatch(r"[0-9a-f]{24}", ids.site_id())
    key = ids.api_key()
    assert key.startswith("ff_") and len(ids.hash_key(key)) == 64 and ids.hash_key(key) != key


def test_ids_from_the_random_pool_are_unique_and_a_forked_child_draws_its_own() -> None:

    made = {ids.session_id() for _ in range(20_000)}
    assert len(made) == 20_000
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the pool it inherited is thrown away at fork
        os.write(write, ids.person_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    parent = ids.person_id()
    assert child[14:] != parent[14:]  # the random tails differ (the first 48 bits are the time)
