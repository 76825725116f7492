"""What each payment provider posts, checked and read as footfall's payments (api/webhooks.py
routes them; docs/api.md). Each provider's signature is checked as that provider specifies:

- Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>`; v1 is HMAC-SHA256 of `<t>.<raw body>`
  with the endpoint's secret, and `t` must be within 5 minutes of now (Stripe's tolerance, which
  stops replays). `checkout.session.completed` and `payment_intent.succeeded` record a payment
  (one per payment intent, whichever comes first), `charge.refunded` marks it refunded.
- LemonSqueezy: `X-Signature: <hex>`, HMAC-SHA256 of the raw body with the webhook's secret.
  `order_created` records a payment, `subscription_payment_success` a renewal, `order_refunded`
  marks the order refunded.
- Polar: the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature:
  v1,<base64>`), checked by the `standardwebhooks` library with the secret's bytes as the key, as
  Polar's own SDK does (a base64 `whsec_` secret is tried decoded too). `order.paid` (and
  `order.created` of a paid order) records a payment, a renewal when its `billing_reason` is
  `subscription_cycle`; `order.refunded` marks it refunded once the whole amount is.
- Paddle Billing: `Paddle-Signature: ts=<unix seconds>;h1=<hex>`; h1 is HMAC-SHA256 of
  `<ts>:<raw body>` with the notification destination's secret key, `ts` within 5 minutes.
  `transaction.completed` records a payment (a renewal when `origin` is
  `subscription_recurring`), an approved full refund (`adjustment.created`/`.updated`, action
  `refund`, type `full`) marks it refunded.

Attribution as for `POST /api/v1/payments`: the visitor id in the metadata (`datafast_visitor_id`,
`visitorId`; LemonSqueezy's `custom_data`, Polar's `metadata`, Paddle's `custom_data`), else the
customer's email, else nobody. A partial refund leaves the payment counted (footfall keeps whole
payments, refunded or not). Other event types are acknowledged and ignored, so the provider does
not retry them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import standardwebhooks

from footfall.bounds import MAX_AMOUNT

TOLERANCE_S = 300
# Currencies Stripe counts in whole units (its list of zero-decimal currencies).
ZERO_DECIMAL = frozenset(
    ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]
)
VISITOR_KEYS = ("datafast_visitor_id", "visitorId", "visitor_id", "footfall_visitor_id")


def _stamped_hmac(
    header: str | None, body: bytes, secret: str, now_s: int, scheme: tuple[str, str, str, str, bytes]
) -> str | None:
    """A header of `<stamp key>=<unix seconds>` and `<signature key>=<hex>` pairs (several signatures
    while a secret rotates): hex HMAC-SHA256 of `<stamp><joiner><raw body>` with the secret, the stamp
    within `TOLERANCE_S` of now (which stops replays). None when it holds, else why not."""
    name, separator, stamp_key, signature_key, joiner = scheme
    if not header:
        return f"missing {name} header"
    pairs = [p.split("=", 1) for p in header.split(separator) if "=" in p]
    stamp = next((v.strip() for k, v in pairs if k.strip() == stamp_key), "")
    signatures = [v.strip() for k, v in pairs if k.strip() == signature_key]
    if not stamp.isdigit() or not signatures:
        return f"malformed {name} header"
    if abs(now_s - int(stamp)) > TOLERANCE_S:
        return "timestamp outside the tolerance zone"
    expected = hmac.new(secret.encode(), stamp.encode() + joiner + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), s.encode("utf-8", "replace")) for s in signatures):
        return "no signatures found matching the expected signature for payload"
    return None


def stripe_signature_ok(header: str | None, body: bytes, secret: str, now_s: int) -> str | None:
    """`Stripe-Signature: t=...,v1=...`, v1 over `<t>.<body>`."""
    return _stamped_hmac(header, body, secret, now_s, ("Stripe-Signature", ",", "t", "v1", b"."))


def _visitor(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return None
    return next((str(meta[k]) for k in VISITOR_KEYS if meta.get(k)), None)


def _units(amount: Any, currency: str) -> float:
    """Minor units (as Stripe and LemonSqueezy send them) to major ones; ValueError past the bound."""
    cents = int(amount or 0)
    units = float(cents) if currency.upper() in ZERO_DECIMAL else cents / 100
    if not 0 <= units <= MAX_AMOUNT:
        raise ValueError(f"amount: from 0 to {MAX_AMOUNT:.0e} in major units")
    return units


def _payment(transaction: str, amount: float, currency: str, ts: int, **kw: Any) -> dict[str, Any]:
    return {
        "transaction_id": transaction,
        "amount": amount,
        "currency": currency.upper(),
        "visitor_id": kw.get("visitor_id"),
        "email": kw.get("email"),
        "name": kw.get("name"),
        "customer_id": kw.get("customer_id"),
        "renewal": bool(kw.get("renewal")),
        "refunded": False,
        "free_trial": amount == 0,
        "ts": ts,
    }


def from_stripe(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    """("payment", payment) | ("refund", transaction id) | ("ignored", None)."""
    kind, obj = event.get("type"), (event.get("data") or {}).get("object") or {}
    ts = int(event.get("created") or now // 1000) * 1000
    if kind == "checkout.session.completed":
        details = obj.get("customer_details") or {}
        currency = obj.get("currency") or "usd"
        return "payment", _payment(
            str(obj.get("payment_intent") or obj.get("id")),
            _units(obj.get("amount_total"), currency),
            currency,
            ts,
            visitor_id=_visitor(obj.get("metadata")),
            email=details.get("email") or obj.get("customer_email"),
            name=details.get("name"),
            customer_id=obj.get("customer"),
        )
    if kind == "payment_intent.succeeded":
        currency = obj.get("currency") or "usd"
        return "payment", _payment(
            str(obj.get("id")),
            _units(obj.get("amount_received", obj.get("amount")), currency),
            currency,
            ts,
            visitor_id=_visitor(obj.get("metadata")),
            email=obj.get("receipt_email"),
            customer_id=obj.get("customer"),
        )
    if kind == "charge.refunded":
        return "refund", str(obj.get("payment_intent") or obj.get("id"))
    return "ignored", None


def from_lemonsqueezy(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    meta, data = event.get("meta") or {}, event.get("data") or {}
    kind, attributes = meta.get("event_name"), data.get("attributes") or {}
    currency = attributes.get("currency") or "USD"
    if kind == "order_created":
        return "payment", _payment(
            f"ls_order_{data.get('id')}",
            _units(attributes.get("total"), currency),
            currency,
            now,
            visitor_id=_visitor(meta.get("custom_data")),
            email=attributes.get("user_email"),
            name=attributes.get("user_name"),
            customer_id=str(attributes["customer_id"]) if attributes.get("customer_id") else None,
        )
    if kind == "subscription_payment_success":
        return "payment", _payment(
            f"ls_invoice_{data.get('id')}",
            _units(attributes.get("total"), currency),
            currency,
            now,
            visitor_id=_visitor(meta.get("custom_data")),
            email=attributes.get("user_email"),
            name=attributes.get("user_name"),
            renewal=attributes.get("billing_reason") != "initial",
        )
    if kind == "order_refunded":
        return "refund", f"ls_order_{data.get('id')}"
    return "ignored", None


def lemonsqueezy_signature_ok(header: str | None, body: bytes, secret: str) -> str | None:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    matches = hmac.compare_digest(expected.encode(), (header or "").encode("utf-8", "replace"))
    return None if matches else "invalid X-Signature"


def polar_signature_ok(headers: dict[str, str], body: bytes, secret: str) -> str | None:
    """Polar signs with its secret's bytes; its SDK also tries a base64 `whsec_` secret decoded."""
    keys = [base64.b64encode(secret.encode()).decode()]
    try:
        if base64.b64decode(secret.removeprefix("whsec_") + "==", validate=False):
            keys.append(secret)
    except (binascii.Error, ValueError):
        pass
    wanted = {k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    if not all(wanted.values()):
        return "missing webhook-id, webhook-timestamp or webhook-signature header"
    problem = "no matching signature found"
    for key in keys:
        try:
            standardwebhooks.Webhook(key).verify(body, wanted)
            return None
        except standardwebhooks.WebhookVerificationError as exc:
            problem = str(exc) or problem
        except (binascii.Error, ValueError, RuntimeError):
            continue
    return problem


def paddle_signature_ok(header: str | None, body: bytes, secret: str, now_s: int) -> str | None:
    """`Paddle-Signature: ts=...;h1=...`, h1 over `<ts>:<body>`."""
    return _stamped_hmac(header, body, secret, now_s, ("Paddle-Signature", ";", "ts", "h1", b":"))


def _iso_ms(raw: Any, default: int) -> int:
    if not isinstance(raw, str):
        return default
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)
    except ValueError:
        return default


def from_polar(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    kind, order = event.get("type"), event.get("data") or {}
    if not isinstance(order, dict):
        return "ignored", None
    transaction = f"polar_order_{order.get('id')}"
    paid = order.get("paid") is True or order.get("status") in ("paid", "refunded", "partially_refunded")
    if kind == "order.paid" or (kind == "order.created" and paid):
        currency = str(order.get("currency") or "usd")
        customer = order.get("customer") or {}
        return "payment", _payment(
            transaction,
            _units(order.get("total_amount", order.get("amount")), currency),
            currency,
            _iso_ms(order.get("created_at"), now),
            visitor_id=_visitor(order.get("metadata")),
            email=customer.get("email"),
            name=customer.get("name"),
            customer_id=order.get("customer_id") or customer.get("id"),
            renewal=order.get("billing_reason") == "subscription_cycle",
        )
    if kind == "order.refunded":
        whole = order.get("status") == "refunded" or int(order.get("refunded_amount") or 0) >= int(
            order.get("total_amount") or 1
        )
        return ("refund", transaction) if whole else ("ignored", None)
    return "ignored", None


def from_paddle(event: dict[str, Any], now: int) -> tuple[str, dict[str, Any] | str | None]:
    kind, data = event.get("event_type"), event.get("data") or {}
    if not isinstance(data, dict):
        return "ignored", None
    if kind == "transaction.completed":
        currency = str(data.get("currency_code") or "USD")
        totals = (data.get("details") or {}).get("totals") or {}
        return "payment", _payment(
            f"paddle_{data.get('id')}",
            _units(totals.get("grand_total", totals.get("total")), currency),
            currency,
            _iso_ms(data.get("billed_at") or event.get("occurred_at"), now),
            visitor_id=_visitor(data.get("custom_data")),
            customer_id=data.get("customer_id"),
            renewal=data.get("origin") == "subscription_recurring",
        )
    refund = data.get("action") == "refund" and data.get("status") == "approved" and data.get("type") == "full"
    if kind in ("adjustment.created", "adjustment.updated") and refund:
        return "refund", f"paddle_{data.get('transaction_id')}"
    return "ignored", None
