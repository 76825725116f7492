// bench/bots.py's baseline: npm isbot over user agents read as a JSON array on stdin.
import { isbot } from "isbot";
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => process.stdout.write(JSON.stringify(JSON.parse(input).map((ua) => isbot(ua)))));
