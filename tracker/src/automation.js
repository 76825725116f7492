// Automation evidence, sent with every event: what a driven browser shows. The server decides
// (src/footfall/ingest/automation.py) and drops what it calls automated; nothing here is stored.
// With the event's viewport and screen size: a headless window has no browser controls and fills
// a screen without a taskbar.
export function automation(nav) {
  const d = nav.userAgentData;
  return {
    wd: nav.webdriver,
    b: d && d.brands.map((b) => b.brand + "/" + b.version).join(),
    p: nav.platform,
    w: [outerWidth, outerHeight, screen.availHeight],
  };
}
