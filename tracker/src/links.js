// Links: clicks to other sites become external_link events; links to the site's other
// hostnames (data-allowed-hostnames) carry the visitor and session ids, read and stripped on arrival.

const ID_PARAMS = [
  ["_df_vid", "_df_sid"],
  ["_pm_vid", "_pm_sid"],
];

function allowed(host, hosts) {
  return hosts.some((h) => host == h || host.slice(-h.length - 1) == "." + h);
}

export function watchLinks(cfg, ids, track) {
  const onClick = (e) => {
    const a = e.target.closest && e.target.closest("a[href]");
    if (!a || !/^https?:$/.test(a.protocol) || a.hostname == location.hostname) return;
    if (allowed(a.hostname, cfg.hosts)) {
      const url = new URL(a.href);
      const [vid, sid] = ids();
      if (vid) url.searchParams.set("_df_vid", vid);
      if (sid) url.searchParams.set("_df_sid", sid);
      a.href = url.href;
    } else if (!allowed(a.hostname, [cfg.domain])) {
      track("external_link", { url: a.href, text: (a.innerText || "").trim().slice(0, 255) || undefined });
    }
  };
  document.addEventListener("click", onClick, true);
  document.addEventListener("auxclick", onClick, true);
}

// The ids another of the site's hostnames sent along, and an email link's token (ff_t), removed
// from the address bar: [visitor id, session id, token], or null.
export function arrivingIds(loc, replaceState) {
  const url = new URL(loc.href);
  const q = url.searchParams;
  let found = q.has("ff_t") ? [null, null, q.get("ff_t")] : null;
  q.delete("ff_t");
  for (const [v, s] of ID_PARAMS) {
    if (q.has(v)) found = [q.get(v), q.get(s), found && found[2]];
    q.delete(v);
    q.delete(s);
  }
  if (found) replaceState.call(history, history.state, "", url.href);
  return found;
}
