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
    Promise.resolve(ready) // the first event waits for what it must carry (device signals)
      .then(() => {
        item.unsure = true; // until a response says otherwise, the server may have it
        return post(item);
      })
      .then((r) => {
        item.unsure = false;
        if (r.status >= 500 || r.status == 429) throw new Error("status " + r.status);
        if (!r.ok) log(item.type + " refused: " + r.status);
        return r.ok ? r.json() : null;
      })
      .then(
        (reply) => {
          if (reply) onReply(reply);
          log(item.type + " sent");
          next();
        },
        (err) => {
          if (++item.tries > RETRIES) {
            log(item.type + " not sent: " + err);
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
