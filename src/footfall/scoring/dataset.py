"""From timelines to labelled rows (docs/scoring.md): where each visitor is cut, what its label is,
and the ledger of page values each row is given.

A live visitor is scored after one of its events, knowing nothing of what follows; a training or
evaluation row must look the same. So each visitor is cut just after one of its events (drawn at
random, seeded by the visitor, among those before its first conversion and before `horizon`), its
row is what it had done by then, and its label is whether it converted later (before `horizon`).

Page and goal values come from conversions, so they are read as they stood at the cut: `rows`
replays the whole site's history in time order (every visitor's page views and goals before it
converted, and each conversion when it happened) and builds each row when its cut comes. A row's
own conversion is always after its cut, so its label is never in its values, and the values a
held-out row gets are those a live scorer would have had at that moment.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from footfall.scoring.features import GOAL_COLUMNS, NEVER, row
from footfall.scoring.ledger import Ledger
from footfall.scoring.timelines import GOAL, PAGE, Timeline

SEED = 7


@dataclass
class Sample:
    timeline: Timeline
    cut: int  # just after the event the visitor is seen at
    label: int  # converted after the cut, before the horizon


def sample(timelines: Sequence[Timeline], horizon: int = NEVER, seed: int = SEED) -> list[Sample]:
    """Each visitor cut just after a random event of its own before its first conversion (and the
    horizon), from its first page view on; visitors with none are left out."""
    out = []
    for t in timelines:
        events = t.before(horizon)
        first_page = next((i for i, e in enumerate(events) if e[1] == PAGE), None)
        if first_page is None:
            continue
        i = random.Random(seed * 1_000_003 + t.root).randrange(first_page, len(events))
        converted = t.converted_at is not None and t.converted_at < horizon
        out.append(Sample(t, events[i][0] + 1, int(converted)))
    return out


def goal_names(timelines: Sequence[Timeline], horizon: int = NEVER) -> list[str]:
    """The most frequent goals before `horizon`: one count column each."""
    doers = Counter(name for t in timelines for name in {e[3] for e in t.before(horizon) if e[1] == GOAL})
    return [g for g, _ in doers.most_common(GOAL_COLUMNS)]


# A replayed moment: (time, order, visitor index, what, page or goal). At the same millisecond a
# row is built (order 0) before what happened then is counted.
ROW, VIEW, DONE, CONVERT = 0, 1, 2, 3


def _moments(history: Sequence[Timeline]) -> Iterator[tuple[int, int, int, int, str]]:
    for i, t in enumerate(history):
        for ts, kind, path, name in t.before(NEVER):
            yield (ts, VIEW if kind == PAGE else DONE, i, kind, name if kind == GOAL else path)
            if kind == GOAL:
                yield (ts, DONE, i, PAGE, path)  # a goal on this page
        if t.converted_at is not None:
            yield (t.converted_at, CONVERT, i, 0, "")


def replay(history: Sequence[Timeline], samples: Sequence[Sample], names: list[str]) -> list[dict[str, Any] | None]:
    """Each sample's row, with the ledger as it stood at its cut (None: no page viewed by then)."""
    index = {t.root: i for i, t in enumerate(history)}
    queries = sorted((s.cut, ROW, index[s.timeline.root], n, "") for n, s in enumerate(samples))
    ledger = Ledger()
    pages: list[set[str] | None] = [None] * len(history)  # pages each visitor viewed (counted once)
    goals: list[set[str] | None] = [None] * len(history)
    goal_pages: list[set[str] | None] = [None] * len(history)
    out: list[dict[str, Any] | None] = [None] * len(samples)
    for ts, what, i, kind, key in heapq.merge(queries, sorted(_moments(history))):
        if what == ROW:
            out[kind] = row(samples[kind].timeline, ts, ledger, names)
        elif what == VIEW:
            if pages[i] is None:
                pages[i] = set()
                ledger.visitors += 1
            if key not in pages[i]:  # type: ignore[operator]
                pages[i].add(key)  # type: ignore[union-attr]
                ledger.viewers[key] += 1
        elif what == DONE and kind == GOAL:
            if goals[i] is None:
                goals[i] = set()
            if key not in goals[i]:  # type: ignore[operator]
                goals[i].add(key)  # type: ignore[union-attr]
                ledger.doers[key] += 1
        elif what == DONE:
            if goal_pages[i] is None:
                goal_pages[i] = set()
            if key not in goal_pages[i]:  # type: ignore[operator]
                goal_pages[i].add(key)  # type: ignore[union-attr]
                ledger.goal_on[key] += 1
        elif pages[i] is not None:  # converted: the pages and goals it saw before lead to a conversion
            ledger.conversions += 1
            ledger.converted.update(pages[i] or ())
            ledger.goal_converted.update(goals[i] or ())
    return out


def rows(
    history: Sequence[Timeline], samples: Sequence[Sample], names: list[str]
) -> tuple[list[dict[str, Any]], np.ndarray[Any, Any]]:
    """The samples' rows (those with a page view by their cut) and labels."""
    kept = [(r, s.label) for r, s in zip(replay(history, samples, names), samples, strict=True) if r is not None]
    return [r for r, _ in kept], np.array([y for _, y in kept], dtype=int)
