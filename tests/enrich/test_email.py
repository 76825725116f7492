"""Emails: business, personal or disposable, and the company domain a business email gives."""

from __future__ import annotations

import pytest

from footfall.enrich.email import company_domain, email_fields, kind_of

EMAILS = [
    ("jane@acme.com", "business", "acme.com"),
    ("jane@eu.mail.acme.co.uk", "business", "acme.co.uk"),
    ("ops@stripe.com", "business", "stripe.com"),
    ("someone@cs.stanford.edu", "business", "stanford.edu"),
    ("team@example.com.au", "business", "example.com.au"),
    ("a.b@gmail.com", "personal", None),
    ("x@googlemail.com", "personal", None),
    ("x@outlook.com", "personal", None),
    ("x@hotmail.co.uk", "personal", None),
    ("x@yahoo.com", "personal", None),
    ("x@icloud.com", "personal", None),
    ("x@gmx.de", "personal", None),
    ("x@web.de", "personal", None),
    ("x@proton.me", "personal", None),
    ("x@mailinator.com", "disposable", None),
    ("x@10minutemail.com", "disposable", None),
    ("x@guerrillamail.com", "disposable", None),
    ("x@yopmail.com", "disposable", None),
]


@pytest.mark.parametrize(("email", "kind", "domain"), EMAILS)
def test_email(email: str, kind: str, domain: str | None) -> None:
    assert kind_of(email) == kind and company_domain(email) == domain


def test_fields_prefer_business_and_never_offer_disposable() -> None:
    fields = email_fields(["me@gmail.com", "x@mailinator.com", "jane@acme.com"])
    assert fields == {"email": "jane@acme.com", "businessEmail": "jane@acme.com", "personalEmail": "me@gmail.com"}
    assert email_fields(["x@mailinator.com"]) == {"email": None, "businessEmail": None, "personalEmail": None}
