"""The ledger of what a site's pages and goals are worth (docs/scoring.md): Google Analytics'
"page value", in conversions, as it stood at a moment.

Training reads it as it stood at each row's cut (dataset.replay sweeps history in time order), live
scoring as it stands now (`now`, counted by the store); the two count the same things, so a row is
built alike on both paths, a conversion is never counted before it happened, and a visitor's own
future never leaks into its row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from footfall.scoring.timelines import ROOT, first_conversions
from footfall.store.base import Tx

SMOOTHING = 20.0  # visitors' worth of the site's rate added to each page's and goal's value


@dataclass
class Ledger:
    """Per page, the visitors who viewed it before converting (or never converted) and those of
    them who have converted since; per goal, the same; per page, those who completed a goal on it;
    and the site's visitors and conversions counted alike."""

    visitors: int = 0
    conversions: int = 0
    viewers: Counter[str] = field(default_factory=Counter)
    converted: Counter[str] = field(default_factory=Counter)
    doers: Counter[str] = field(default_factory=Counter)
    goal_converted: Counter[str] = field(default_factory=Counter)
    goal_on: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.conversions / self.visitors if self.visitors else 0.0

    def page_value(self, page: str) -> float:
        """Google Analytics' page value, in conversions: the share of the page's viewers who went on
        to convert, smoothed towards the site's rate."""
        rate = self.rate
        return (self.converted[page] + SMOOTHING * rate) / (self.viewers[page] + SMOOTHING)

    def goal_value(self, goal: str) -> float:
        rate = self.rate
        return (self.goal_converted[goal] + SMOOTHING * rate) / (self.doers[goal] + SMOOTHING)

    def reach(self, page: str) -> float:
        """The share of the site's visitors who viewed the page: a share, not a count, so it means
        the same on a young site and an old one."""
        return self.viewers[page] / self.visitors if self.visitors else 0.0

    def goal_rate(self, page: str) -> float:
        """The share of the page's viewers who completed a goal on it (add to cart on a product)."""
        return (self.goal_on[page] + 1) / (self.viewers[page] + SMOOTHING)


def now(tx: Tx, site_num: int, conversion_goals: list[str]) -> Ledger:
    """The site's ledger as it stands now , counted by the store: the same counts
    dataset.replay arrives at after the last event."""
    out = Ledger()
    params = (site_num, site_num, *conversion_goals, site_num)
    for r in tx.all(
        f"WITH conv AS ({first_conversions(conversion_goals)}), "
        f"seen AS (SELECT {ROOT} AS root, e.type, e.path, e.name, CASE WHEN c.ts IS NULL THEN 0 ELSE 1 END AS won "
        f"FROM events e JOIN visitors v ON v.num = e.visitor_num LEFT JOIN conv c ON c.root = {ROOT} "
        "WHERE e.site_num = ? AND e.type IN ('pageview', 'custom') AND (c.ts IS NULL OR e.ts < c.ts)) "
        "SELECT 'page' AS what, path AS item, COUNT(DISTINCT root) AS n, "
        "COUNT(DISTINCT CASE WHEN won = 1 THEN root END) AS k FROM seen WHERE type = 'pageview' GROUP BY path "
        "UNION ALL SELECT 'goal', name, COUNT(DISTINCT root), COUNT(DISTINCT CASE WHEN won = 1 THEN root END) "
        "FROM seen WHERE type = 'custom' GROUP BY name "
        "UNION ALL SELECT 'on', path, COUNT(DISTINCT root), 0 FROM seen WHERE type = 'custom' GROUP BY path "
        "UNION ALL SELECT 'all', '', COUNT(DISTINCT root), COUNT(DISTINCT CASE WHEN won = 1 THEN root END) "
        "FROM seen WHERE type = 'pageview'",
        params,
    ):
        n, k = int(r["n"]), int(r["k"])
        if r["what"] == "page":
            out.viewers[r["item"]], out.converted[r["item"]] = n, k
        elif r["what"] == "goal":
            out.doers[r["item"]], out.goal_converted[r["item"]] = n, k
        elif r["what"] == "on":
            out.goal_on[r["item"]] = n
        else:
            out.visitors, out.conversions = n, k
    for counter in (out.converted, out.goal_converted):
        for item in [item for item, k in counter.items() if k == 0]:
            del counter[item]
    return out
