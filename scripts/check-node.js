// Fails early, with what to do, when the Node that runs the project is older than it supports.
// `npm ci` provides Node 24 LTS in node_modules/.bin, which npm scripts and npx put first on PATH.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `spri needs Node 22.12 or newer; this is ${process.version}. Run \`npm ci\` (it provides Node 24 ` +
      "for npm scripts and npx) or install Node 22/24 LTS.",
  );
  process.exit(1);
}
