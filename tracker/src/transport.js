// Delivery: one request at a time (so the id the server signs is stored before the next event
// leaves), fetch with keepalive, retries with backoff, and sendBeacon for what is still queued
// when the page is hidden or unloaded.

const RETRIES = 3;

export function makeTransport(api, build, onReply, log, ready) {
  const queue = [];
  let busy = false;

  const post = (item) =>
    fetch(api, {
      method: "POST",
      body: JSON.stringify(build(item)),
      keepalive: true,
      credentials: "omit",
      headers: { "Content-Type": "text/plain" }, // a simple request: no CORS preflight
    });

  const next = () => {
    queue.shift();
    busy = false;
    pump();
  };

  function pump() {
    if (busy || !queue.length) return;
    busy = true;
    const item = queue[0];
    item.unsure = true; // taken: from now on the server may have it, unless it answers 5xx or 429
    Promise.resolve(ready) // the first event waits for what it must carry (device signals)
      .then(() => post(item))
      .then((r) => {
        if (r.status >= 500 || r.status == 429) {
          item.unsure = false; // the server says it does not have it: safe to send again
          throw new Error("status " + r.status);
        }
        if (!r.ok) log(item.type + " refused: " + r.status); // 4xx: sending again would not help
        return r.ok ? r.json().catch(() => null) : null; // stored: an unreadable body is no reason to resend
      })
      .then(
        (reply) => {
          if (reply) onReply(reply);
          log(item.type + " sent");
          if (item.done) item.done(reply);
          next();
        },
        (err) => {
          // Cut off without an answer while the page goes away: keepalive carries it, so no resend.
          if (++item.tries > RETRIES || (item.unsure && document.visibilityState == "hidden")) {
            log(item.type + " not sent: " + err);
            if (item.done) item.done(null);
            return next();
          }
          busy = false;
          setTimeout(pump, 500 * 2 ** item.tries); // 1 s, 2 s, 4 s
        }
      );
  }

  function flush() {
    // What has not left yet goes now. A request in flight (keepalive) completes on its own, and
    // one that failed without an answer may have arrived: neither is sent again.
    const keep = queue.filter(
      (item) => item.unsure || !navigator.sendBeacon || !navigator.sendBeacon(api, JSON.stringify(build(item)))
    );
    queue.splice(0, queue.length, ...keep);
  }

  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => document.visibilityState == "hidden" && flush());

  return (item) => {
    item.tries = 0;
    queue.push(item);
    pump();
  };
}
