// Device signals: what a browser is, read from APIs that do not depend on storage, so a visitor
// who cleared cookies or opened a private window can still be recognised by the server (which
// matches them with network context). Each component is reduced to a short value or a hash.

import { safe } from "./storage.js";

// FNV-1a, 32 bits, as 8 hex characters: enough to compare components, not to reverse them.
export function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function canvas() {
  const c = document.createElement("canvas");
  c.width = 240;
  c.height = 60;
  const x = c.getContext("2d");
  x.textBaseline = "alphabetic";
  x.fillStyle = "#f60";
  x.fillRect(100, 1, 62, 20);
  x.fillStyle = "#069";
  x.font = "11pt Arial";
  x.fillText("Cwm fjordbank gly \u{1F603}", 2, 15);
  x.fillStyle = "rgba(102,204,0,0.7)";
  x.font = "18pt Times New Roman";
  x.fillText("Cwm fjordbank gly", 4, 45);
  x.globalCompositeOperation = "multiply";
  x.arc(50, 50, 40, 0, Math.PI * 2);
  x.fill();
  return hash(c.toDataURL());
}

function webgl() {
  const gl = document.createElement("canvas").getContext("webgl");
  if (!gl) return [null, null];
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const p = (k) => String(gl.getParameter(k));
  const vendor = info ? p(info.UNMASKED_VENDOR_WEBGL) + "~" + p(info.UNMASKED_RENDERER_WEBGL) : p(gl.VENDOR);
  const params = [gl.MAX_TEXTURE_SIZE, gl.MAX_RENDERBUFFER_SIZE, gl.MAX_VIEWPORT_DIMS, gl.ALIASED_LINE_WIDTH_RANGE,
    gl.MAX_VERTEX_ATTRIBS, gl.MAX_VARYING_VECTORS, gl.SHADING_LANGUAGE_VERSION].map(p);
  return [vendor, hash(params.join() + (gl.getSupportedExtensions() || []).join())];
}

const FONTS = ["Arial Black", "Calibri", "Cambria", "Century Gothic", "Comic Sans MS", "Consolas", "Courier New",
  "Garamond", "Georgia", "Helvetica Neue", "Impact", "Lucida Console", "Menlo", "Monaco", "Palatino",
  "Segoe UI", "Tahoma", "Trebuchet MS", "Ubuntu", "DejaVu Sans", "Liberation Sans", "Noto Sans", "Roboto"];

// Which fonts are installed: the width of a sample differs from the fallback's.
function fonts() {
  const x = document.createElement("canvas").getContext("2d");
  const width = (font) => ((x.font = "72px " + font), x.measureText("mmmmmmmmmmlli10O").width);
  const base = width("monospace");
  return FONTS.map((f) => (width("'" + f + "',monospace") != base ? 1 : 0)).join("");
}

function audio() {
  const Ctx = window.OfflineAudioContext || window.webkitOfflineAudioContext;
  if (!Ctx) return Promise.resolve(null);
  const ctx = new Ctx(1, 5000, 44100);
  const osc = ctx.createOscillator();
  const comp = ctx.createDynamicsCompressor();
  osc.type = "triangle";
  osc.frequency.value = 10000;
  osc.connect(comp);
  comp.connect(ctx.destination);
  osc.start(0);
  return ctx.startRendering().then((buf) => {
    let sum = 0;
    const data = buf.getChannelData(0);
    for (let i = 4500; i < 5000; i++) sum += Math.abs(data[i]);
    return hash(String(sum));
  });
}

const MATH = () =>
  hash([Math.tan(-1e300), Math.acosh(1e300), Math.expm1(1), Math.sinh(1), Math.cbrt(100), Math.log1p(10)].join());

// Components, then a signature of the stable ones. Resolves within `ms` even if audio hangs.
export function deviceSignals(nav, ms) {
  const s = screen;
  const [gl, glp] = safe(webgl) || [null, null];
  const intl = safe(() => Intl.DateTimeFormat().resolvedOptions()) || {};
  const cv = safe(canvas);
  const c = {
    gl,
    glp,
    ft: safe(fonts),
    mt: safe(MATH),
    sc: [s.width, s.height, s.colorDepth, devicePixelRatio].join("x"),
    tz: intl.timeZone,
    ca: intl.calendar + "/" + intl.numberingSystem,
    lg: (nav.languages || [nav.language]).join(),
    pf: nav.platform,
    hc: nav.hardwareConcurrency,
    dm: nav.deviceMemory,
    tp: nav.maxTouchPoints,
    st: ["localStorage", "sessionStorage", "indexedDB"].map((k) => (safe(() => !!window[k]) ? 1 : 0)).join(""),
  };
  const quota = safe(() => nav.storage.estimate().then((e) => Math.round(e.quota / 1048576)));
  const late = (p) => Promise.race([p || null, new Promise((r) => setTimeout(r, ms))]).catch(() => null);
  return Promise.all([late(safe(audio)), late(quota)]).then(([au, q]) => {
    const core = hash(JSON.stringify(c)); // without canvas and audio, which some browsers add noise to
    c.au = au;
    c.cv = cv;
    return {
      h: hash(JSON.stringify(c)),
      s: core,
      c,
      q, // storage quota in MB: below twice the heap limit in Chromium's private windows
      m: safe(() => Math.round(performance.memory.jsHeapSizeLimit / 1048576)),
    };
  });
}
