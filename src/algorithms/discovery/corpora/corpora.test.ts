import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../../base/errors/errors.ts";
import { CORPUS_NAMES, corpusLayout, type CorpusName, type MiningRow } from "./corpora.ts";

const origin = { file: "sample.jsonl", line: 3, label: "helpful-base/train" };
const map = (corpus: CorpusName, row: unknown, options = {}): MiningRow => corpusLayout(corpus).toMiningRow(row, origin, options);

/** The InputError a bad row gives, checked for where it says the problem is. */
function refused(corpus: CorpusName, row: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => map(corpus, row),
    (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.file, "sample.jsonl");
      assert.equal(error.line, 3);
      assert.equal(error.field, field);
      assert.match(error.message, message);
      assert.ok(error.hint, "says what to do");
      return true;
    },
  );
}

describe("mining corpora in their published layouts", () => {
  test("every corpus the CLI names has a layout", () => {
    assert.deepEqual([...CORPUS_NAMES], ["hh-rlhf", "ultrafeedback", "tldr", "hotpotqa"]);
  });

  test("hh-rlhf: one Human turn is the prompt, the chosen last Assistant turn the gold", () => {
    const row = {
      chosen: "\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water for nine minutes.",
      rejected: "\n\nHuman: How do I boil an egg?\n\nAssistant: I don't know.",
    };
    assert.deepEqual(map("hh-rlhf", row), {
      id: "hh-rlhf-helpful-base-train-3",
      source: "hh-rlhf",
      prompt: "How do I boil an egg?",
      gold: "Put it in boiling water for nine minutes.",
      messages: [{ role: "user", content: "How do I boil an egg?" }],
    });
  });

  test("hh-rlhf: a longer dialogue is the prompt up to the last Assistant turn, as a transcript and as messages", () => {
    const row = {
      chosen:
        "\n\nHuman: I want a pet.\n\nAssistant: What kind?\n\nHuman: Something quiet.\n\nAssistant: A fish might suit you.\nThey are calm.",
      rejected: "\n\nHuman: I want a pet.\n\nAssistant: What kind?\n\nHuman: Something quiet.\n\nAssistant: A drum kit.",
    };
    const mined = map("hh-rlhf", row);
    assert.equal(mined.prompt, "Human: I want a pet.\n\nAssistant: What kind?\n\nHuman: Something quiet.");
    assert.equal(mined.gold, "A fish might suit you.\nThey are calm.");
    assert.deepEqual(mined.messages, [
      { role: "user", content: "I want a pet." },
      { role: "assistant", content: "What kind?" },
      { role: "user", content: "Something quiet." },
    ]);
  });

  test("hh-rlhf: a row without chosen, or without an Assistant answer, is refused with its line and field", () => {
    refused("hh-rlhf", { rejected: "x" }, "chosen", /missing/);
    refused("hh-rlhf", { chosen: "\n\nHuman: hello?" }, "chosen", /no Assistant turn/);
    refused("hh-rlhf", { chosen: "\n\nHuman: hello?\n\nAssistant:" }, "chosen", /empty/);
  });

  test("ultrafeedback: the completion with the highest rating is the gold (fine-grained mean, then overall score)", () => {
    const row = {
      source: "evol_instruct",
      instruction: "Name a prime number above 10.",
      models: ["a", "b", "c"],
      completions: [
        { model: "a", response: "12", overall_score: 9, "fine-grained_score": 2.5 },
        { model: "b", response: "11 is prime.", overall_score: 7, "fine-grained_score": 4.75 },
        { model: "c", response: "13", overall_score: 6, "fine-grained_score": 4.75 },
      ],
    };
    assert.deepEqual(map("ultrafeedback", row), {
      id: "ultrafeedback-helpful-base-train-3",
      source: "ultrafeedback",
      prompt: "Name a prime number above 10.",
      gold: "11 is prime.",
    });
  });

  test("ultrafeedback: the binarized layout's chosen answer is the gold and prompt_id the id", () => {
    const row = {
      prompt: "Say hi in French.",
      prompt_id: "abc123",
      chosen: [
        { role: "user", content: "Say hi in French." },
        { role: "assistant", content: "Bonjour !" },
      ],
      rejected: [
        { role: "user", content: "Say hi in French." },
        { role: "assistant", content: "Hola" },
      ],
      score_chosen: 8,
      score_rejected: 3,
    };
    assert.deepEqual(map("ultrafeedback", row), { id: "abc123", source: "ultrafeedback", prompt: "Say hi in French.", gold: "Bonjour !" });
  });

  test("ultrafeedback: a row of neither layout, or with no rated answer, is refused", () => {
    refused("ultrafeedback", { question: "?" }, "completions", /neither/);
    refused("ultrafeedback", { instruction: "x", completions: [{ response: "" }] }, "completions", /no completion/);
    refused("ultrafeedback", { prompt: "x", chosen: [{ role: "user", content: "x" }] }, "chosen", /no assistant/);
  });

  test("tldr: prompt/label (CarperAI), prompt/completion (trl-lib) and post/summary (OpenAI's filtered TL;DR)", () => {
    const prompt = "SUBREDDIT: r/cooking\nTITLE: Burnt rice\nPOST: Every time I cook rice it burns.\nTL;DR:";
    assert.deepEqual(map("tldr", { prompt, label: " Rice keeps burning, help." }), {
      id: "tldr-helpful-base-train-3",
      source: "tldr",
      prompt,
      gold: "Rice keeps burning, help.",
    });
    assert.equal(map("tldr", { prompt, completion: " Rice burns." }).gold, "Rice burns.");
    const filtered = map("tldr", {
      id: "t3_1abc",
      subreddit: "cooking",
      title: "Burnt rice",
      post: "Every time I cook rice it burns.",
      summary: " Rice keeps burning, help.",
    });
    assert.equal(filtered.id, "t3_1abc");
    assert.equal(filtered.prompt, "SUBREDDIT: r/cooking\nTITLE: Burnt rice\nPOST: Every time I cook rice it burns.\n\nTL;DR:");
    assert.equal(filtered.gold, "Rice keeps burning, help.");
  });

  test("tldr: summarize_from_feedback comparisons take the summary the labeller chose", () => {
    const mined = map("tldr", {
      info: { id: "t3_x", post: "My cat ignores me.", title: "Cat", subreddit: "cats" },
      summaries: [{ text: " Cat is aloof." }, { text: " My cat ignores me and I am sad." }],
      choice: 1,
    });
    assert.equal(mined.id, "t3_x");
    assert.equal(mined.gold, "My cat ignores me and I am sad.");
    assert.match(mined.prompt, /^SUBREDDIT: r\/cats\nTITLE: Cat\nPOST: My cat ignores me\./);
  });

  test("tldr: a row without a summary is refused", () => {
    refused("tldr", { prompt: "x" }, "label", /no reference summary/);
    refused("tldr", { info: { post: "p" }, summaries: [{ text: "a" }], choice: 4 }, "choice", /no summary 4/);
  });

  test("hotpotqa: the answer is the gold; the context paragraphs (either layout) come before the question", () => {
    const hub = {
      id: "5a8b57f25542995d1e6f1371",
      question: "Which magazine was started first?",
      answer: "Arthur's Magazine",
      type: "comparison",
      level: "medium",
      supporting_facts: { title: ["Arthur's Magazine"], sent_id: [0] },
      context: {
        title: ["Arthur's Magazine", "First for Women"],
        sentences: [["Arthur's Magazine was a literary periodical.", " It began in 1844."], ["First for Women started in 1989."]],
      },
    };
    const mined = map("hotpotqa", hub);
    assert.equal(mined.id, "5a8b57f25542995d1e6f1371");
    assert.equal(mined.gold, "Arthur's Magazine");
    assert.equal(
      mined.prompt,
      "Arthur's Magazine: Arthur's Magazine was a literary periodical. It began in 1844.\n\n" +
        "First for Women: First for Women started in 1989.\n\n" +
        "Question: Which magazine was started first?",
    );
    const original = { _id: "x1", question: hub.question, answer: hub.answer, context: [["Arthur's Magazine", ["A.", " B."]]] };
    assert.equal(map("hotpotqa", original).prompt, "Arthur's Magazine: A. B.\n\nQuestion: Which magazine was started first?");
    assert.equal(map("hotpotqa", hub, { context: false }).prompt, "Which magazine was started first?");
  });

  test("hotpotqa: a row without an answer is refused", () => {
    refused("hotpotqa", { question: "Who?", answer: "" }, "answer", /empty/);
    refused("hotpotqa", { answer: "x" }, "question", /missing/);
  });
});
