/**
 * Rouge-L against Python `rouge_score`.
 *
 * Where the expected values come from (rouge_score and nltk are not installed here and PyPI is
 * unreachable, so nothing below was produced by running Python in this session):
 * - [RS] copied from google-research/google-research `rouge/rouge_scorer_test.py` (the library's own
 *   tests; the "AgainstRouge155" ones are ROUGE-1.5.5 numbers the library is asserted to match) and
 *   its `rouge/testdata/{target,prediction}.txt` (first two lines).
 * - [NLTK] copied from nltk `nltk/test/stem.doctest` and `nltk/test/unit/test_stem.py` (the
 *   NLTK_EXTENSIONS stemmer rouge_score uses).
 * - [hand] derived by hand from the rouge_score source (tokenize.py, rouge_scorer.py, scoring.py)
 *   and nltk's porter.py; the derivation is written next to each case.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lcsLength, porterStem, rougeL, rougeLF1, rougeN, rougeTokenize } from "./rouge-l.ts";

function near(actual: number, expected: number, places = 5): void {
  assert.ok(Math.abs(actual - expected) < 0.5 * 10 ** -places, `${actual} ≠ ${expected} (to ${places} places)`);
}

// [RS] rouge/testdata/target.txt and prediction.txt, lines 1 and 2 (random strings with English suffixes).
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];

describe("rougeL matches rouge_score's own tests [RS]", () => {
  test("consecutive and non-consecutive subsequences", () => {
    // testRougeLConsecutive / testRougeLNonConsecutive: P = 1, R = 2/3, F = 4/5.
    for (const prediction of ["testing one", "testing two"]) {
      const s = rougeL("testing one two", prediction);
      near(s.precision, 1);
      near(s.recall, 2 / 3);
      near(s.fmeasure, 4 / 5);
    }
  });

  test("an empty prediction scores 0 (testRougeEmpty)", () => {
    assert.deepEqual(rougeL("testing one two", ""), { precision: 0, recall: 0, fmeasure: 0 });
  });

  test("ROUGE-1.5.5 numbers without stemming (testRougeLAgainstRouge155)", () => {
    const first = rougeL(TARGETS[0]!, PREDICTIONS[0]!);
    near(first.recall, 0.40741);
    near(first.precision, 0.6875);
    near(first.fmeasure, 0.51163);
    const second = rougeL(TARGETS[1]!, PREDICTIONS[1]!);
    near(second.recall, 0.40476);
    near(second.precision, 0.65385);
    near(second.fmeasure, 0.5);
  });

  test("Rouge-1 with and without stemming: stemming changes the second pair exactly as in ROUGE-1.5.5", () => {
    // testRouge1AgainstRouge155 / ...WithStemming: the "-ing", "-tion", "-er", "-ed" endings stem together.
    near(rougeN(TARGETS[1]!, PREDICTIONS[1]!, 1).recall, 0.40476);
    near(rougeN(TARGETS[1]!, PREDICTIONS[1]!, 1).precision, 0.65385);
    const stemmed = rougeN(TARGETS[1]!, PREDICTIONS[1]!, 1, { useStemmer: true });
    near(stemmed.recall, 0.42857);
    near(stemmed.precision, 0.69231);
    near(stemmed.fmeasure, 0.52941);
    const first = rougeN(TARGETS[0]!, PREDICTIONS[0]!, 1, { useStemmer: true });
    near(first.recall, 0.40741);
    near(first.precision, 0.6875);
    // testRouge1 / testRouge2.
    near(rougeN("testing one two", "testing", 1).fmeasure, 1 / 2);
    near(rougeN("testing one two", "testing one", 2).fmeasure, 2 / 3);
  });

  test("the LCS table example (testLcsTable)", () => {
    assert.equal(lcsLength(["1", "2", "3", "4", "5"], ["2", "5", "3", "4"]), 3);
    assert.equal(lcsLength(["1", "2", "3", "4", "5"], ["8", "9"]), 0);
  });
});

describe("tokenizer edge cases [hand]", () => {
  test("empty and punctuation-only texts have no tokens, so every score is 0", () => {
    // `_score_lcs` returns Score(0, 0, 0) when either token list is empty.
    assert.deepEqual(rougeTokenize(""), []);
    assert.deepEqual(rougeTokenize("!!! ... ??? — «»"), []);
    assert.deepEqual(rougeL("", ""), { precision: 0, recall: 0, fmeasure: 0 });
    assert.deepEqual(rougeL("...", "..."), { precision: 0, recall: 0, fmeasure: 0 });
    assert.deepEqual(rougeL("a real answer", "?!"), { precision: 0, recall: 0, fmeasure: 0 });
  });

  test("letters outside a-z are removed by the non-alphanumeric rule, splitting words", () => {
    // lower("Café Naïve") = "café naïve"; [^a-z0-9]+ → " ": "caf na ve".
    assert.deepEqual(rougeTokenize("Café Naïve"), ["caf", "na", "ve"]);
    near(rougeLF1("caf na ve", "Café Naïve"), 1);
    // Non-Latin scripts vanish entirely.
    assert.deepEqual(rougeTokenize("日本語のテキスト Привет"), []);
    // U+212A KELVIN SIGN lower-cases to ASCII "k" in both Python and JavaScript, so it survives.
    assert.deepEqual(rougeTokenize("\u212Aelvin"), ["kelvin"]);
  });

  test("numbers are tokens; decimal points and signs split them", () => {
    // "3.14" → "3 14"; "-2" → " 2"; "1,000" → "1 000".
    assert.deepEqual(rougeTokenize("Pi is 3.14, not -2 or 1,000!"), ["pi", "is", "3", "14", "not", "2", "or", "1", "000"]);
  });

  test("repeated tokens count once per LCS match", () => {
    // target [the, the, the], prediction [the]: LCS 1, P = 1/1, R = 1/3, F = 2·(1/3)/(4/3) = 1/2.
    const s = rougeL("the the the", "the");
    near(s.precision, 1);
    near(s.recall, 1 / 3);
    near(s.fmeasure, 0.5);
    // target [a, b, a, b], prediction [b, a, b, a]: LCS 3 (b a b), P = R = F = 3/4.
    near(rougeLF1("a b a b", "b a b a"), 0.75);
  });

  test("order matters: LCS is a subsequence, not a bag", () => {
    // target [be, clear, and, concise], prediction [concise, and, clear]: every pair of shared words
    // appears in opposite orders, so LCS = 1: P = 1/3, R = 1/4, F = 2·(1/12)/(7/12) = 2/7.
    near(rougeLF1("Be clear and concise.", "Concise, and clear"), 2 / 7);
  });

  test("stemming off vs on; only tokens longer than 3 characters are stemmed", () => {
    // Off: [running, quickly] vs [run, quick]: LCS 0.
    assert.equal(rougeLF1("running quickly", "run quick"), 0);
    // On: running → runn (-ing) → run (*d, not l/s/z); quickly → quickli (Y→I after a consonant),
    // nothing in steps 2–5 applies; "quick" stays "quick". LCS 1 (run): P = R = F = 1/2.
    assert.deepEqual(rougeTokenize("running quickly", { useStemmer: true }), ["run", "quickli"]);
    near(rougeLF1("running quickly", "run quick", { useStemmer: true }), 0.5);
    // "was" has 3 characters: not stemmed (Porter alone would give "wa").
    assert.deepEqual(rougeTokenize("was", { useStemmer: true }), ["was"]);
    assert.equal(rougeLF1("was", "wa", { useStemmer: true }), 0);
    // Digits are consonants to Porter and alphanumeric tokens are stemmed too: "abc123s" → "abc123".
    assert.deepEqual(rougeTokenize("abc123s", { useStemmer: true }), ["abc123"]);
  });
});

describe("porterStem = nltk PorterStemmer() (NLTK_EXTENSIONS)", () => {
  test("the NLTK doctest vocabulary [NLTK stem.doctest]", () => {
    const plurals = [
      "caresses",
      "flies",
      "dies",
      "mules",
      "denied",
      "died",
      "agreed",
      "owned",
      "humbled",
      "sized",
      "meeting",
      "stating",
      "siezing",
      "itemization",
      "sensational",
      "traditional",
      "reference",
      "colonizer",
      "plotted",
    ];
    const expected = "caress fli die mule deni die agre own humbl size meet state siez item sensat tradit refer colon plot";
    assert.equal(plurals.map(porterStem).join(" "), expected);
  });

  test("NLTK unit tests: 'oed' and lower-casing [NLTK test_stem.py]", () => {
    assert.equal(porterStem("oed"), "o");
    assert.equal(porterStem("On"), "on");
    assert.equal(porterStem("Github"), "github");
  });

  test("irregular forms bypass the algorithm [NLTK porter.py table]", () => {
    assert.equal(porterStem("dying"), "die");
    assert.equal(porterStem("skies"), "sky");
    assert.equal(porterStem("news"), "news");
    assert.equal(porterStem("proceed"), "proceed");
    assert.equal(porterStem("innings"), "inning");
  });

  test("NLTK departures from the paper [hand]", () => {
    // -ies on a four-letter word keeps "ie" ("ties" → "tie"), elsewhere → "i" ("ponies" → "poni").
    assert.equal(porterStem("ties"), "tie");
    assert.equal(porterStem("ponies"), "poni");
    // (*c and not c) Y → I: "happy" → "happi", "enjoy" keeps its y (o before y is a vowel).
    assert.equal(porterStem("happy"), "happi");
    assert.equal(porterStem("enjoy"), "enjoy");
    // generously: step 2 ousli → ous ("generous", m(gener) = 2 > 0); step 4 ous → "" (m = 2 > 1).
    assert.equal(porterStem("generously"), "gener");
    // controlling: -ing → "controll" (double l is kept in step 1b), step 5b ll → l when m > 1.
    assert.equal(porterStem("controlling"), "control");
  });
});
