// The tracker's settings: the script tag's data- attributes, or the preset the server writes
// into /p/{pixel_id}.js (a Floqer-style pixel that needs no attributes). Attributes win.

// The server replaces this string literal, quotes included, with a JSON string of the preset.
const PRESET = "%%FOOTFALL_PRESET%%";

export function readConfig(script, loc) {
  let preset = {};
  try {
    preset = JSON.parse(PRESET);
  } catch (e) {
    // the plain /js/script.js: no preset
  }
  const attr = (name) => {
    const v = script && script.getAttribute("data-" + name);
    return v == null ? preset[name] : v;
  };
  const on = (name) => String(attr(name)) === "true";
  return {
    site: attr("website-id"),
    domain: String(attr("domain") || loc.hostname).replace(/^\./, ""),
    hosts: String(attr("allowed-hostnames") || "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    api: attr("api-url") || new URL("/api/events", (script && script.src) || loc.href).href,
    debug: on("debug"),
    quiet: on("disable-console"),
    localhost: on("allow-localhost"),
    file: on("allow-file-protocol"),
    iframe: on("allow-iframe") || on("debug"),
    payments: !on("disable-payments"),
    device: !on("disable-device"),
    consent: on("consent-required"),
    forms: on("form-capture"),
  };
}
