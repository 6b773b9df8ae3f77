import assert from "node:assert/strict";
import { test } from "node:test";
import { alignmentPicture as picture } from "../../../test/support/iterations-dir.ts";
import { alignConstitutions, type ColumnPrinciple } from "./constitution-alignment.ts";

const p = (id: string, text: string, name?: string, size = 3): ColumnPrinciple => ({ id, text, size, ...(name ? { name } : {}) });

test("alignConstitutions: rows by cluster label (the name, else the text), new and dropped against the previous constitution", () => {
  const rows = alignConstitutions([
    { iter: 1, principles: [p("c1", "Keep answers short.", "Concision"), p("c2", "Name your sources.", "Citations")] },
    { iter: 2, principles: [p("c1", "Acknowledge feelings first.", "Empathy"), p("c2", "Answer briefly and plainly.", "concision")] },
    { iter: 3, principles: [p("c1", "Acknowledge feelings first.", "Empathy"), p("c2", "Refuse harmful requests.")] },
  ]);
  assert.deepEqual(picture(rows), [
    "Concision: c1 | c2= | dropped",
    "Citations: c2 | dropped | ·",
    "Empathy: · | c1+ | c1=",
    "Refuse harmful requests.: · | · | c2+",
  ]);
  // The label shown is its first spelling; each cell keeps its own principle.
  assert.equal((rows[0]!.cells[1] as { principle: ColumnPrinciple }).principle.text, "Answer briefly and plainly.");
});

test("alignConstitutions: an iteration without a constitution is a gap, compared across to the one before it", () => {
  const rows = alignConstitutions([
    { iter: 1, principles: [p("c1", "Be kind.")] },
    { iter: 2, principles: null },
    { iter: 3, principles: [p("c1", "be kind."), p("c2", "Be brief.")] },
  ]);
  assert.deepEqual(picture(rows), ["Be kind.: c1 | · | c1=", "Be brief.: · | · | c2+"]);
});

test("alignConstitutions: a label given to two clusters of one constitution keeps a row per cluster", () => {
  const rows = alignConstitutions([
    { iter: 1, principles: [p("c1", "Be brief.", "Style"), p("c2", "Be formal.", "Style")] },
    { iter: 2, principles: [p("c1", "Be brief.", "Style")] },
  ]);
  assert.deepEqual(picture(rows), ["Style: c1 | c1=", "Style: c2 | dropped"]);
  assert.deepEqual(alignConstitutions([]), []);
});
