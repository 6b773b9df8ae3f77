import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ScoredGroup } from "./correlate.ts";
import { groupColour, renderCorrelationFigure } from "./figure.ts";

/**
 * A small well-formedness check: one root, every tag closed in order, attributes quoted, and no
 * stray `&` or `<` in text. Enough for hand-written SVG without an XML parser.
 */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  let roots = 0;
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let position = 0;
  while ((match = token.exec(body)) !== null) {
    position = token.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    if (text !== undefined) {
      assert.ok(!/&(?!(?:amp|lt|gt|quot|apos);)/.test(text), `unescaped & in text: ${text.slice(0, 40)}`);
      if (stack.length === 0) assert.equal(text.trim(), "", "text outside the root");
      continue;
    }
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  assert.equal(position, body.length, `not XML at: ${body.slice(position, position + 60)}`);
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "one root element");
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

const GROUPS: ScoredGroup[] = [
  { name: "reasoning", human: [1, 2, 3, 4, 5, -1], judge: [1, 2, 2, 5, 4, 3] },
  { name: "theory_of_mind & <more>", human: [5, 4, 4], judge: [4.5, 4, 3] },
];

describe("renderCorrelationFigure", () => {
  test("well-formed SVG with one point per row, one colour per group, and a histogram", () => {
    const svg = renderCorrelationFigure({ groups: GROUPS, title: 'judge "A" & human', subtitle: "pearson mean 0.55" });
    assertWellFormedXml(svg);
    assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(count(svg, /<circle class="point"/g), 9);
    assert.match(svg, new RegExp(`data-group="reasoning" fill="${groupColour(0)}"`));
    assert.match(svg, new RegExp(`data-group="theory_of_mind &amp; &lt;more&gt;" fill="${groupColour(1)}"`));
    assert.match(svg, /<title>judge &quot;A&quot; &amp; human<\/title>/);
    assert.match(svg, /theory_of_mind &amp; &lt;more&gt; \(3\)/);
    // Discrete scores: one bin per distinct value (-1, 1, 2, 3, 4, 4.5, 5), a human and a judge bar each.
    assert.equal(count(svg, /<rect class="bar human"/g), 7);
    assert.equal(count(svg, /<rect class="bar judge"/g), 7);
    assert.match(svg, /<title>judge 4: 2<\/title>/);
    assert.match(svg, /<title>human 4: 3<\/title>/);
  });

  test("deterministic for a seed; continuous scores get ten bins and no jitter", () => {
    const a = renderCorrelationFigure({ groups: GROUPS });
    assert.equal(renderCorrelationFigure({ groups: GROUPS }), a);
    assert.notEqual(renderCorrelationFigure({ groups: GROUPS, seed: 2 }), a);
    const human = Array.from({ length: 40 }, (_, i) => i / 4);
    const continuous = renderCorrelationFigure({ groups: [{ name: "all", human, judge: human.map((v) => v * 2) }] });
    assertWellFormedXml(continuous);
    assert.equal(count(continuous, /<circle class="point"/g), 40);
    assert.equal(count(continuous, /<rect class="bar judge"/g), 10);
    // Round-width bins aligned to multiples of the width: [0, 2) holds judge 0, 0.5, 1, 1.5.
    assert.match(continuous, /<title>judge \[0, 2\): 4<\/title>/);
    assert.match(continuous, /<title>human \[0, 2\): 8<\/title>/);
    // Without jitter, points with y = 2x lie on one line: the first and last are exact.
    assert.match(continuous, /<circle class="point" cx="88\.2" cy="385\.5" r="2\.5"\/>/);
  });

  test("many groups get distinct colours; empty groups do not break the figure", () => {
    const colours = new Set(Array.from({ length: 20 }, (_, i) => groupColour(i)));
    assert.equal(colours.size, 20);
    const svg = renderCorrelationFigure({ groups: [{ name: "empty", human: [], judge: [] }] });
    assertWellFormedXml(svg);
    assert.equal(count(svg, /<circle/g), 0);
  });

  test("the checker catches broken XML", () => {
    assert.throws(() => assertWellFormedXml("<svg><g></svg>"));
    assert.throws(() => assertWellFormedXml("<svg>a & b</svg>"));
    assert.throws(() => assertWellFormedXml('<svg x="1></svg>'));
  });
});
