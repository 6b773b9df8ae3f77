/**
 * spri's version, as package.json states it: the one place it is written. This file sits three
 * folders below package.json as source (src/base/util), as built (dist/base/util) and inside the CLI
 * bundle (dist/surfaces/cli/bundle.js, see scripts/bundle-cli.js), and package.json is in every
 * install ("files" aside, npm always packs it).
 */
import { createRequire } from "node:module";

let version: string | undefined;

export function spriVersion(): string {
  version ??= (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;
  return version;
}
