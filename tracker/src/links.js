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

// The ids another of the site's hostnames sent along, removed from the address bar.
export function arrivingIds(loc, replaceState) {
  const url = new URL(loc.href);
  let found = null;
  for (const [v, s] of ID_PARAMS) {
    if (url.searchParams.has(v)) found = found || [url.searchParams.get(v), url.searchParams.get(s)];
    url.searchParams.delete(v);
    url.searchParams.delete(s);
  }
  if (found) replaceState.call(history, history.state, "", url.href);
  return found;
}
