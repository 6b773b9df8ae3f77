import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { type FakeHubServer, startFakeHubServer } from "../../models/fake-server/fake-hub-api.ts";
import { hubAccess, parseHubSource, resolveSplitFiles } from "./hub-dataset.ts";

describe("hf:ID[@rev][:split]", () => {
  test("the dataset id, the revision (main by default) and the split (train by default)", () => {
    assert.deepEqual(parseHubSource("hf:Anthropic/hh-rlhf"), { repo: "Anthropic/hh-rlhf", revision: "main", split: "train" });
    assert.deepEqual(parseHubSource("hf:HuggingFaceH4/ultrafeedback_binarized:train_prefs"), {
      repo: "HuggingFaceH4/ultrafeedback_binarized",
      revision: "main",
      split: "train_prefs",
    });
    assert.deepEqual(parseHubSource("hf:openai/summarize_from_feedback@refs/convert/parquet:comparisons/validation"), {
      repo: "openai/summarize_from_feedback",
      revision: "refs/convert/parquet",
      split: "comparisons/validation",
    });
  });

  test("anything else is refused with the form it must take", () => {
    for (const bad of ["hf:", "hf:a/b/c", "hf:a/b@:train", "hf:a/b:"]) {
      assert.throws(
        () => parseHubSource(bad),
        (error: unknown) => error instanceof InputError && error.field === "from" && /hf:ID/.test(error.hint ?? ""),
      );
    }
  });

  test("HF_ENDPOINT points elsewhere, --hub-url over it; HF_TOKEN is the bearer token", () => {
    assert.deepEqual(hubAccess({ env: {} }), { endpoint: "https://huggingface.co", token: undefined });
    assert.deepEqual(hubAccess({ env: { HF_ENDPOINT: "http://mirror.local/", HF_TOKEN: "hf_x" } }), {
      endpoint: "http://mirror.local",
      token: "hf_x",
    });
    assert.equal(hubAccess({ hubUrl: "http://flag.local", env: { HF_ENDPOINT: "http://mirror.local" } }).endpoint, "http://flag.local");
  });
});

describe("a split's data files through the Hub's tree API", () => {
  let hub: FakeHubServer;
  before(async () => {
    hub = await startFakeHubServer({
      token: "hf_secret",
      pageSize: 2,
      datasets: {
        "org/prefs": {
          main: {
            "README.md": "# card",
            "data/train_prefs-00000-of-00001.parquet": "p",
            "data/train-00000-of-00002.parquet": "t0",
            "data/train-00001-of-00002.parquet": "t1",
            "data/test-00000-of-00001.parquet": "x",
          },
        },
        "org/dialogues": {
          main: { "helpful-base/train.jsonl.gz": "a", "harmless-base/train.jsonl.gz": "b", "helpful-base/test.jsonl.gz": "c" },
        },
      },
    });
  });
  after(() => hub.close());

  const access = () => ({ endpoint: hub.url, token: "hf_secret" });

  test("every page is read and only the split's files are kept, in path order", async () => {
    const files = await resolveSplitFiles(access(), parseHubSource("hf:org/prefs:train"));
    assert.deepEqual(
      files.map((f) => f.path),
      ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"],
    );
    assert.equal(files[0]!.size, 2);
    assert.match(files[0]!.sha256 ?? "", /^[0-9a-f]{64}$/);
    assert.ok(hub.log.filter((line) => line.includes("/tree/main")).length > 1, "followed the Link header");
    const prefs = await resolveSplitFiles(access(), parseHubSource("hf:org/prefs:train_prefs"));
    assert.deepEqual(
      prefs.map((f) => f.path),
      ["data/train_prefs-00000-of-00001.parquet"],
    );
  });

  test("a split may be a folder's files (config/split) or a file name in several folders", async () => {
    const all = await resolveSplitFiles(access(), parseHubSource("hf:org/dialogues"));
    assert.deepEqual(
      all.map((f) => f.path),
      ["harmless-base/train.jsonl.gz", "helpful-base/train.jsonl.gz"],
    );
    const one = await resolveSplitFiles(access(), parseHubSource("hf:org/dialogues:helpful-base/test"));
    assert.deepEqual(
      one.map((f) => f.path),
      ["helpful-base/test.jsonl.gz"],
    );
  });

  test("no files for the split: an InputError listing the data files there are", async () => {
    await assert.rejects(resolveSplitFiles(access(), parseHubSource("hf:org/prefs:validation")), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /no data files for split "validation"/);
      assert.match(error.hint ?? "", /data\/test-00000-of-00001\.parquet/);
      return true;
    });
  });

  test("an unknown dataset or revision says which; a refused token says to set HF_TOKEN and never shows it", async () => {
    await assert.rejects(
      resolveSplitFiles(access(), parseHubSource("hf:org/none")),
      (e: unknown) => e instanceof InputError && /org\/none/.test(e.message),
    );
    await assert.rejects(
      resolveSplitFiles(access(), parseHubSource("hf:org/prefs@v9")),
      (e: unknown) => e instanceof InputError && /revision "v9"/.test(e.message),
    );
    await assert.rejects(resolveSplitFiles({ endpoint: hub.url, token: "hf_wrong" }, parseHubSource("hf:org/prefs")), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.hint ?? "", /HF_TOKEN/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /hf_wrong/);
      return true;
    });
  });

  test("a Hub that cannot be reached is a ConfigError naming it", async () => {
    const gone = await startFakeHubServer({ datasets: {} });
    await gone.close();
    await assert.rejects(resolveSplitFiles({ endpoint: gone.url }, parseHubSource("hf:org/prefs")), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.includes(gone.url), e.message);
      assert.match(e.hint ?? "", /HF_ENDPOINT|--hub-url/);
      return true;
    });
  });
});
