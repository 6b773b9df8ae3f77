/**
 * `spri discover`: latent principle discovery (STaPLe, Ramji et al. 2025), one file per subcommand.
 * Each parses its flags and calls the library (runner/ and discovery/).
 */
import type { Command } from "commander";
import { applyCommand } from "./apply.ts";
import { clusterCommand } from "./cluster.ts";
import { corpusCommand } from "./corpus.ts";
import { exportDiscoveryCommand } from "./export.ts";
import { iterateCommand } from "./iterate.ts";
import { loopCommand } from "./loop.ts";
import { mineCommand } from "./mine.ts";
import { regenerateCommand } from "./regenerate.ts";
import { resumeCommand, trainCommand } from "./train.ts";

/** Registers `spri discover` and its subcommands, and returns the group. */
export function discoverCommand(program: Command): Command {
  const discover = program
    .command("discover")
    .description("latent principle discovery (STaPLe): mine principles from self-corrections, cluster them into a constitution");
  clusterCommand(discover);
  corpusCommand(discover);
  mineCommand(discover);
  regenerateCommand(discover);
  exportDiscoveryCommand(discover);
  applyCommand(discover);
  iterateCommand(discover);
  trainCommand(discover);
  resumeCommand(discover);
  loopCommand(discover);
  return discover;
}
