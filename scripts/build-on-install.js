// The `prepare` script: builds dist/ and web/dist when the package is installed (npm ci, npm install,
// a git dependency), packed or published, and never when spri is merely run. `npx spri` in a clone
// is `npm exec`, which links the local package into npm's cache and runs its `prepare` there: a full
// rebuild (20–43 s) before the first command, with its output hidden. A clone is built by `npm ci`.
// Plain JavaScript, like check-node.js: it needs no TypeScript support from whichever Node npm runs.
import { spawnSync } from "node:child_process";

if (process.env.npm_command === "exec") {
  console.error("spri: not building under npm exec (npx); `npm ci` or `npm run build` builds spri.");
  process.exit(0);
}
const build = spawnSync("npm run build", { shell: true, stdio: "inherit" });
process.exit(build.status ?? 1);
