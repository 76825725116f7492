// Payment success pages, detected from the URL once per checkout id: Stripe Checkout
// (?session_id=cs_...), Polar (?checkout_id=), LemonSqueezy (?order_id=).

const PROVIDERS = [
  ["session_id", "stripe_session_id", /^cs_/],
  ["checkout_id", "polar_checkout_id", /./],
  ["order_id", "lemonsqueezy_order_id", /./],
];

// `first(key)` is true the first time a key is seen on this browser (localStorage).
export function detectPayment(loc, first, track) {
  const query = new URL(loc.href).searchParams;
  for (const [param, field, shape] of PROVIDERS) {
    const id = query.get(param);
    if (id && shape.test(id) && first("footfall_payment_" + id)) track("payment", { [field]: id });
  }
}
