// Drives DataFast's official SDK (npm `datafast`) the way an app does, against the URL it is given:
//   node datafast.mjs '{"apiUrl": "...", "appId": "...", "domain": "...", "platform": "ios", ...}'
// Does a screen view, a goal, an identify and a payment, flushes, and prints what the SDK holds.
import { createDataFastClient } from "datafast";

const config = JSON.parse(process.argv[2]);
const memory = new Map();
const storage = {
  getItem: async (k) => (memory.has(k) ? memory.get(k) : null),
  setItem: async (k, v) => void memory.set(k, v),
  removeItem: async (k) => void memory.delete(k),
};
const failures = [];
const client = createDataFastClient();
await client.init({
  appId: config.appId,
  domain: config.domain,
  platform: config.platform,
  osVersion: config.osVersion,
  appVersion: "1.2.3",
  apiUrl: config.apiUrl,
  cookieless: config.cookieless || false,
  storage,
  flushInterval: 60_000,
  debug: true, // the SDK reports a refused event on the console only in debug mode
});
// what the React Native entry reads from expo-device and the screen
client.setDeviceInfo({
  platform: config.platform,
  osVersion: config.osVersion,
  deviceModel: config.model,
  appVersion: "1.2.3",
  screenWidth: 390,
  screenHeight: 844,
  viewport: { width: 390, height: 844 },
  language: "en-GB",
  timezone: "Europe/London",
});
// the queue reports failures through its logger: counted from console.error
const error = console.error;
console.error = (...args) => failures.push(args.map(String).join(" ")) && error(...args);
await client.trackScreen("Pricing", config.href ? { href: config.href } : undefined);
await client.flush();
await client.track("signup", { plan: "pro" });
await client.identify("u-42", { name: "Ada Lovelace", email: "ada@acme.com" });
await client.trackPayment({ email: "ada@acme.com", amount: 49, currency: "USD", stripe_session_id: "cs_test_1" });
await client.flush();
// the last line: what the SDK holds (debug logging comes before it)
process.stdout.write("\n" + JSON.stringify({ visitorId: client.getVisitorId(), sessionId: client.getSessionId(), failures }) + "\n");
await client.shutdown();
