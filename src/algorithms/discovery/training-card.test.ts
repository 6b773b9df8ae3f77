import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTrainingCard, STAPLE_CITATION, type TrainingExportSummary } from "./training-card.ts";

const summary: TrainingExportSummary = {
  input: "mined.jsonl",
  output: "/runs/sft.jsonl",
  format: "trl",
  fileType: "jsonl",
  read: 4,
  exported: 2,
  skipped: { malformed: 0, "not-an-object": 0, "not-accepted": 1, "no-question": 0, incomplete: 1 },
  relabelled: { canonical: 0, member: 1, nearest: 1 },
  sha256: "ab12",
};

test("renderTrainingCard: counts with each skip reason, relabelling, settings without secrets, citation", () => {
  const card = renderTrainingCard(summary, {
    includeCritique: false,
    constitutionFile: "constitution.json",
    settings: { baseModel: "m", apiKey: "sk-secret" },
  });
  assert.match(card, /^---\npretty_name: "Principle discovery trl export: sft.jsonl"/);
  assert.match(card, /\| records read \| 4 \|\n\| exported \| 2 \|\n\| skipped \| 2 \|/);
  assert.match(card, /\| skipped: no accepted trajectory \| 1 \|/);
  assert.doesNotMatch(card, /malformed JSON line/);
  assert.match(card, /- Critique in the target: no/);
  assert.match(
    card,
    /- Principles: 2 of 2 replaced by cluster representatives \(`constitution.json`\): 1 by constitution membership, 1 by the nearest/,
  );
  assert.match(card, /sha256 `ab12`/);
  assert.match(card, /"baseModel": "m"/);
  assert.doesNotMatch(card, /sk-secret/);
  assert.ok(card.includes(STAPLE_CITATION));
});

test("renderTrainingCard: principles as mined, no settings section", () => {
  const card = renderTrainingCard({ ...summary, relabelled: { canonical: 0, member: 0, nearest: 0 } }, {});
  assert.match(card, /- Principles: as mined/);
  assert.match(card, /- Critique in the target: yes/);
  assert.doesNotMatch(card, /## Settings/);
});
