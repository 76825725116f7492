"""Job title -> department and seniority: a stated rule, table-driven (docs/people.md).

A title is lower-cased, `&` read as `and`, punctuation dropped; then the first row of each table
whose phrase appears as whole words decides. Functional departments come before Executive, so
"VP of Sales" is Sales and "Founder & CEO" Executive. A title no row recognises has no department
(null, never guessed); any non-empty title has a seniority, "Individual contributor" by default.
"""

from __future__ import annotations

import functools
import re

DEPARTMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "IT",
        (
            "it support",
            "it manager",
            "it director",
            "head of it",
            "it administrator",
            "information technology",
            "system administrator",
            "systems administrator",
            "sysadmin",
            "network administrator",
            "network engineer",
            "helpdesk",
            "help desk",
            "cio",
            "ciso",
            "chief information",
            "information security",
            "it",
        ),
    ),
    (
        "Support/Success",
        (
            "customer success",
            "customer support",
            "customer service",
            "customer experience",
            "customer care",
            "client success",
            "support",
            "success",
        ),
    ),
    (
        "Sales",
        (
            "sales",
            "account executive",
            "business development",
            "bdr",
            "sdr",
            "account manager",
            "key account",
            "cro",
            "chief revenue",
            "revenue",
            "partnerships",
            "inside sales",
        ),
    ),
    (
        "Marketing",
        (
            "marketing",
            "growth",
            "seo",
            "sem",
            "content",
            "brand",
            "communications",
            "public relations",
            "pr",
            "social media",
            "demand generation",
            "cmo",
            "copywriter",
            "community",
            "events",
        ),
    ),
    (
        "Data",
        (
            "data",
            "analytics",
            "machine learning",
            "ml",
            "ai",
            "artificial intelligence",
            "business intelligence",
            "bi",
            "statistician",
            "cdo",
            "scientist",
        ),
    ),
    ("Design", ("design", "designer", "ux", "ui", "user experience", "creative", "illustrator", "art director")),
    ("Product", ("product", "cpo")),
    (
        "People",
        (
            "human resources",
            "hr",
            "people",
            "talent",
            "recruiter",
            "recruiting",
            "recruitment",
            "chro",
            "learning and development",
            "hrbp",
        ),
    ),
    (
        "Engineering",
        (
            "engineer",
            "engineering",
            "developer",
            "programmer",
            "software",
            "devops",
            "sre",
            "site reliability",
            "architect",
            "qa",
            "quality assurance",
            "tester",
            "test automation",
            "cto",
            "chief technology",
            "chief technical",
            "firmware",
            "frontend",
            "front end",
            "backend",
            "back end",
            "full stack",
            "fullstack",
            "mobile",
            "ios",
            "android",
            "technical",
            "tech lead",
            "technology",
        ),
    ),
    (
        "Finance",
        (
            "finance",
            "financial",
            "accounting",
            "accountant",
            "controller",
            "comptroller",
            "cfo",
            "treasurer",
            "treasury",
            "tax",
            "audit",
            "auditor",
            "bookkeeper",
            "payroll",
            "fpanda",
            "investor relations",
        ),
    ),
    ("Legal", ("legal", "counsel", "attorney", "lawyer", "paralegal", "compliance", "clo", "privacy")),
    (
        "Operations",
        (
            "operations",
            "ops",
            "coo",
            "chief operating",
            "supply chain",
            "logistics",
            "procurement",
            "facilities",
            "office manager",
            "purchasing",
            "project manager",
            "program manager",
            "programme manager",
            "chief of staff",
            "administrative",
            "office administrator",
        ),
    ),
    (
        "Executive",
        (
            "ceo",
            "chief executive",
            "founder",
            "cofounder",
            "co founder",
            "owner",
            "president",
            "chairman",
            "chairwoman",
            "chairperson",
            "managing director",
            "general manager",
            "managing partner",
            "board member",
            "entrepreneur",
        ),
    ),
)

SENIORITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Intern", ("intern", "internship", "trainee", "apprentice", "working student")),
    ("Founder/Owner", ("founder", "cofounder", "co founder", "owner")),
    ("VP", ("vice president", "vp", "svp", "evp", "avp")),
    (
        "C-level",
        (
            "chief",
            "ceo",
            "cto",
            "cfo",
            "coo",
            "cmo",
            "cio",
            "ciso",
            "cpo",
            "cro",
            "chro",
            "cdo",
            "clo",
            "president",
            "chairman",
            "chairwoman",
            "chairperson",
            "managing director",
            "managing partner",
        ),
    ),
    ("Head/Director", ("head", "director", "general manager")),
    ("Manager", ("manager", "mgr", "supervisor", "team lead", "team leader")),
    ("Senior", ("senior", "sr", "principal", "staff", "lead", "expert")),
)
DEFAULT_SENIORITY = "Individual contributor"


def _phrase(words: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(words) + r"(?![a-z0-9])")


_DEPARTMENTS = tuple((name, tuple(_phrase(p) for p in phrases)) for name, phrases in DEPARTMENTS)
_SENIORITIES = tuple((name, tuple(_phrase(p) for p in phrases)) for name, phrases in SENIORITIES)


def normalise(title: str) -> str:
    text = title.lower().replace("fp&a", "fpanda").replace("&", " and ")
    text = re.sub(r"\bco-founder\b", "cofounder", text)
    text = text.replace("product owner", "product po")  # a Scrum role, not an owner of anything
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _first(rules: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...], text: str) -> str | None:
    for name, patterns in rules:
        if any(p.search(text) for p in patterns):
            return name
    return None


@functools.lru_cache(maxsize=4096)
def classify(title: str | None) -> tuple[str | None, str | None]:
    """(department, seniority) of a job title; (None, None) without one."""
    if not title or not title.strip():
        return None, None
    text = normalise(title)
    return _first(_DEPARTMENTS, text), _first(_SENIORITIES, text) or DEFAULT_SENIORITY
