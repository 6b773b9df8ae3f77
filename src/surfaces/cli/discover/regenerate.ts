/** `spri discover regenerate`: y2 written again under each accepted record's cluster medoid, through the runner. */
import type { Command } from "commander";
import { prepareMedoidRegeneration } from "../../../presets/tasks/prepare-discovery.ts";
import { addSettingFlags, ENVIRONMENT_HELP } from "../options.ts";
import { parseOptions } from "../option-schema.ts";
import { executeRun, ONE_SAMPLE } from "../run.ts";
import { addRunOptions } from "../run-options.ts";
import { DISCOVERY_MODEL_SETTINGS } from "./discover-options.ts";
import { addMineOptions, MINE_FLAGS, mineOptionsFrom } from "./mine.ts";

export function regenerateCommand(discover: Command): Command {
  const command = discover
    .command("regenerate")
    .description(
      "label replacement with regeneration: rewrite y2 under each accepted record's cluster medoid (--input: the labelled copy of spri discover cluster); kept only if it still beats y1",
    );
  addRunOptions(command);
  addMineOptions(command);
  addSettingFlags(command, DISCOVERY_MODEL_SETTINGS);
  command.addHelpText(
    "after",
    `
Per accepted record with zCanonical (its cluster's medoid) other than its own principle: a critique
of y1 and a refinement under the medoid, without the gold, scored as mining scores (--similarity),
within the length budget (--max-length-ratio) and, with --follow-check, judged to follow the medoid.
It replaces best {z, critique, y2, fY2, gain} when it beats y1; otherwise the record is dropped
(accepted false, decision medoid-no-gain or not-following). medoidRegeneration {status, reason, before}
says what happened. The mining flags for candidates and principles do not apply. See docs/discovery.md.${ENVIRONMENT_HELP}`,
  );
  command.action((raw: Record<string, unknown>) =>
    executeRun(raw, prepareMedoidRegeneration(mineOptionsFrom(parseOptions(MINE_FLAGS, raw))), ONE_SAMPLE),
  );
  return command;
}
