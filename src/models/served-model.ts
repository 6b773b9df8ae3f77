/**
 * Bringing a trained model into service on an OpenAI-compatible server: vLLM's runtime LoRA
 * loading (`POST /v1/load_lora_adapter`, on a server started with
 * VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) and a readiness check that waits until the model answers
 * a chat completion. Keys go in the Authorization header only, never into messages.
 */
import { ModelError } from "../base/errors/errors.ts";
import { redactUrl, redactUrlsIn } from "../base/util/redact-url.ts";
import { Wake } from "../base/util/wake.ts";
import { messageOf } from "../base/util/message-of.ts";

export interface ServerAccess {
  /** The server's base URL, with `/v1`. */
  baseUrl: string;
  apiKey?: string;
  signal?: AbortSignal;
}

function headers(access: ServerAccess): Record<string, string> {
  return { "content-type": "application/json", ...(access.apiKey ? { authorization: `Bearer ${access.apiKey}` } : {}) };
}

/**
 * Loads the adapter at `path` under `name`. vLLM checks the name only, so a name it already has is
 * accepted only when `resuming` (the caller's own records say it loaded that name from `path`);
 * otherwise it would serve another adapter under this name, and that is an error.
 */
export async function loadLoraAdapter(access: ServerAccess, name: string, path: string, resuming = false): Promise<void> {
  const url = `${access.baseUrl.replace(/\/+$/, "")}/load_lora_adapter`;
  const endpoint = redactUrl(url);
  const response = await fetch(url, {
    method: "POST",
    headers: headers(access),
    body: JSON.stringify({ lora_name: name, lora_path: path }),
    signal: access.signal,
  }).catch((error: unknown) => {
    // The reason, not the error itself: fetch's messages may quote the URL with its password.
    throw new ModelError(`cannot reach ${endpoint} to load the adapter: ${redactUrlsIn(messageOf(error))}`, {
      kind: "network",
      endpoint,
      hint: "start vLLM with --enable-lora",
    });
  });
  const text = await response.text();
  if (response.ok) return;
  if (/already been loaded/i.test(text)) {
    if (resuming) return;
    throw new ModelError(`vLLM at ${endpoint} already has an adapter ${name}, which this job did not load from ${path}`, {
      kind: "bad-request",
      status: response.status,
      endpoint,
      hint: "give another name with --served-model, or unload that adapter (POST /v1/unload_lora_adapter) if it is stale, then re-run",
    });
  }
  throw new ModelError(`vLLM refused to load the adapter ${path} as ${name}: ${response.status} ${text.slice(0, 300)}`, {
    kind: response.status === 404 ? "not-found" : "bad-request",
    status: response.status,
    endpoint,
    hint: "start vLLM with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, and check the adapter path is readable by the server",
  });
}

/**
 * Resolves once `model` answers a one-token chat completion; retries every `pollSeconds` (a server
 * still loading refuses or answers 404) and gives up after `timeoutSeconds`.
 */
export async function waitUntilAnswers(
  access: ServerAccess,
  model: string,
  options: { pollSeconds?: number; timeoutSeconds?: number } = {},
): Promise<void> {
  const url = `${access.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const endpoint = redactUrl(url);
  const deadline = Date.now() + (options.timeoutSeconds ?? 600) * 1000;
  const wake = new Wake();
  let last = "";
  for (;;) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: headers(access),
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Say OK." }], max_tokens: 1 }),
        signal: access.signal,
      });
      if (response.ok) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      access.signal?.throwIfAborted();
      last = redactUrlsIn(messageOf(error));
    }
    if (Date.now() >= deadline)
      throw new ModelError(`the trained model ${model} did not answer at ${endpoint} in time (last: ${last})`, {
        kind: "timeout",
        endpoint,
        hint: "check the serve step's output, or raise --serve-timeout",
      });
    await wake.wait((options.pollSeconds ?? 2) * 1000, access.signal);
  }
}
