"""Funnels (queries/funnels.py): random visit streams replayed through collect, every funnel's
numbers compared with a naive computation over what was generated, from the rollups' steps and
from the rows, with and without filters; saved funnels, the people who dropped, and errors."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from tests.api.test_analytics import DAY, PLACES, Stream, iso, replay, streams
from tests.support.collect import event, post
from tests.support.servers import AppServer

FUNNELS = [
    ["page:/", "page:/pricing"],
    ["page:/pricing", "goal:signup"],
    ["page:/*", "page:/docs", "goal:demo"],
    ["page:/blog", "page:/", "page:/blog"],  # a page again, after another
    ["page:/*s*", "page:/*"],  # /docs or /pricing, then any page after it (never the same event)
]


def naive(stream: Stream, origin: int, steps: list[str], keep: Any = lambda v: True, lo: int = 0) -> list[int]:
    """Visitors reaching each step: each visitor's page views and goals of the kept visits in time
    order; a step is the first matching event at or after the previous step's, and not that event."""
    events: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for v in stream.visits:
        if not keep(v) or origin + v.start < lo:
            continue
        at = origin + v.start
        for page, gap in zip(v.pages, v.gaps, strict=True):
            at += gap
            events[v.visitor].append((at, "page", page))
        if v.goal:
            events[v.visitor].append((at, "goal", v.goal))  # sent as the last page loads: the same ms
    reached = [0] * len(steps)
    for timeline in events.values():
        timeline.sort(key=lambda e: e[0])
        time, used = None, -1
        for k, step in enumerate(steps):
            kind, value = step.split(":", 1)
            hit = next(
                (
                    i
                    for i, (t, what, name) in enumerate(timeline)
                    if what == kind
                    and (fnmatch.fnmatchcase(name, value) if kind == "page" else name == value)
                    and (time is None or (t >= time and i != used))
                ),
                None,
            )
            if hit is None:
                break
            reached[k] += 1
            time, used = timeline[hit][0], hit
    return reached


def analysis(server: AppServer, key: str, steps: list[str], **params: Any) -> dict[str, Any]:
    answer = httpx.get(
        f"{server.url}/api/v1/funnels/analysis",
        params=[("step", s) for s in steps] + list(params.items()),
        headers={"authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def check(server: AppServer, key: str, stream: Stream, origin: int) -> None:
    for steps in FUNNELS:
        got = analysis(server, key, steps)
        assert [s["visitors"] for s in got["steps"]] == naive(stream, origin, steps), steps
        gb = analysis(server, key, steps, filter_country="is:GB")  # from the rows of the kept visits
        expected = naive(stream, origin, steps, lambda v: PLACES[v.place][2] == "GB")
        assert [s["visitors"] for s in gb["steps"]] == expected, ("GB", steps)
        cut = origin + DAY // 2 + 433_000  # a range starting inside a slot
        later = analysis(server, key, steps, startAt=iso(cut), endAt=iso(origin + 10 * DAY))
        assert [s["visitors"] for s in later["steps"]] == naive(stream, origin, steps, lo=cut), ("cut", steps)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams())
def test_every_funnel_matches_a_naive_computation(server: AppServer, stream: Stream) -> None:
    site, key, origin = replay(server, stream)
    check(server, key, stream, origin)  # folded part-way through the replay
    server.clock.advance(ms=DAY)
    server.app.state.rollups.fold()
    check(server, key, stream, origin)  # all folded


def test_saved_funnels_their_results_and_who_dropped(server: AppServer) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read", "funnels:write", "identify:write"))
    headers = {"authorization": f"Bearer {key}"}
    ids = []
    for n in range(3):  # three visitors see pricing; the first two sign up; the first two see /
        body = event(site, "https://example.com/pricing")
        vid = post(server.url, body).json()["visitorId"]
        ids.append(vid)
        server.clock.advance(seconds=5)
        if n < 2:
            goal = event(site, "https://example.com/", type="custom", visitorId=vid, extraData={"eventName": "signup"})
            assert post(server.url, goal).status_code == 202
    made = httpx.post(
        f"{server.url}/api/v1/funnels",
        json={"name": "Pricing to sign-up", "steps": ["page:/pricing", {"type": "goal", "value": "signup"}]},
        headers=headers,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    funnel = made.json()["data"]
    assert funnel["id"].startswith("fun_") and funnel["steps"] == [
        {"type": "page", "value": "/pricing"},
        {"type": "goal", "value": "signup"},
    ]
    listed = httpx.get(f"{server.url}/api/v1/funnels", headers=headers).json()["data"]
    assert [f["name"] for f in listed] == ["Pricing to sign-up"]
    got = httpx.get(f"{server.url}/api/v1/funnels/{funnel['id']}", headers=headers).json()["data"]
    assert got["name"] == "Pricing to sign-up" and (got["entered"], got["completed"]) == (3, 2)
    second = got["steps"][1]
    assert (second["visitors"], second["dropOff"], second["conversionRate"]) == (2, 1, 66.67)
    assert [d["visitorId"] for d in second["dropped"]] == [ids[2]]
    # the one who dropped names themselves: the list says who they are
    named = httpx.post(
        f"{server.url}/api/v1/identify", json={"datafast_visitor_id": ids[2], "user_id": "u1", "name": "Ada"},
        headers=headers,
    )  # fmt: skip
    assert named.status_code == 200, named.text
    got = httpx.get(f"{server.url}/api/v1/funnels/{funnel['id']}", headers=headers).json()["data"]
    assert got["steps"][1]["dropped"][0]["name"] == "Ada" and got["steps"][1]["dropped"][0]["personId"]
    # a range before any visit: nobody entered
    empty = httpx.get(
        f"{server.url}/api/v1/funnels/{funnel['id']}", params={"startAt": "2001-01-01", "endAt": "2001-01-02"},
        headers=headers,
    ).json()["data"]  # fmt: skip
    assert empty["entered"] == 0 and empty["conversionRate"] == 0.0
    gone = httpx.delete(f"{server.url}/api/v1/funnels/{funnel['id']}", headers=headers)
    assert gone.status_code == 200 and gone.json()["data"]["deleted"] is True
    assert httpx.get(f"{server.url}/api/v1/funnels/{funnel['id']}", headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("get", "/analysis?step=page:/", None, 400, "2 to 8 steps"),
        ("get", "/analysis?step=page:/&step=click:buy", None, 400, "page or goal"),
        ("get", "/analysis?step=page:pricing&step=goal:x", None, 400, "starting with /"),
        ("get", "/analysis?step=nothing&step=goal:x", None, 400, "page:<path> or goal:<name>"),
        ("get", "/analysis?step=page:/&step=goal:x&startAt=2026-01-01", None, 400, "together"),
        ("post", "", {"name": "x", "steps": [{"type": "page", "value": "/"}]}, 400, "2 to 8 steps"),
        ("post", "", {"name": "", "steps": ["page:/", "goal:x"]}, 400, "name"),
        ("post", "", {"name": "x"}, 400, "a funnel is"),
        ("get", "/fun_nosuch", None, 404, "not found"),
        ("delete", "/fun_nosuch", None, 404, "not found"),
    ],
)
def test_errors(server: AppServer, method: str, path: str, body: Any, status: int, words: str) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read", "funnels:write"))
    answer = httpx.request(
        method, f"{server.url}/api/v1/funnels{path}", json=body, headers={"authorization": f"Bearer {key}"}
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["status"] == "error" and words in answer.json()["error"]["message"]


def test_writing_needs_the_funnels_permission(server: AppServer) -> None:
    site, key = server.add_site("example.com", scopes=("analytics:read",))
    answer = httpx.post(
        f"{server.url}/api/v1/funnels", json={"name": "x", "steps": ["page:/", "goal:x"]},
        headers={"authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert answer.status_code == 403 and "funnels:write" in answer.json()["error"]["message"]
    listed = httpx.get(f"{server.url}/api/v1/funnels", headers={"authorization": f"Bearer {key}"})
    assert listed.status_code == 200 and listed.json()["data"] == []  # reading: analytics:read will do
