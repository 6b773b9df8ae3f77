#!/usr/bin/env node
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`spri: needs Node 22.12 or newer, this is ${process.version}. In a clone, run it through \`npx spri\` after \`npm install\` (which provides Node 22); elsewhere install Node 22 or 24 LTS.\n`);
  process.exit(1);
}
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main();
