/**
 * Bringing a trained model into service on an OpenAI-compatible server: vLLM's runtime LoRA
 * loading (`POST /v1/load_lora_adapter`, on a server started with
 * VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) and a readiness check that waits until the model answers
 * a chat completion. Keys go in the Authorization header only, never into messages.
 */
import { ModelError } from "../base/errors/errors.ts";
import { Wake } from "../base/util/wake.ts";

export interface ServerAccess {
  /** The server's base URL, with `/v1`. */
  baseUrl: string;
  apiKey?: string;
  signal?: AbortSignal;
}

function headers(access: ServerAccess): Record<string, string> {
  return { "content-type": "application/json", ...(access.apiKey ? { authorization: `Bearer ${access.apiKey}` } : {}) };
}

/** Loads the adapter at `path` under `name`; one already loaded under that name (a re-run) is fine. */
export async function loadLoraAdapter(access: ServerAccess, name: string, path: string): Promise<void> {
  const endpoint = `${access.baseUrl.replace(/\/+$/, "")}/load_lora_adapter`;
  const response = await fetch(endpoint, {
    method: "POST",
    headers: headers(access),
    body: JSON.stringify({ lora_name: name, lora_path: path }),
    signal: access.signal,
  }).catch((error: unknown) => {
    throw new ModelError(`cannot reach ${endpoint} to load the adapter`, {
      kind: "network",
      endpoint,
      cause: error,
      hint: "start vLLM with --enable-lora",
    });
  });
  const text = await response.text();
  if (response.ok || /already been loaded/i.test(text)) return;
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
  const endpoint = `${access.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const deadline = Date.now() + (options.timeoutSeconds ?? 600) * 1000;
  const wake = new Wake();
  let last = "";
  for (;;) {
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: headers(access),
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Say OK." }], max_tokens: 1 }),
        signal: access.signal,
      });
      if (response.ok) return;
      last = `${response.status} ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      access.signal?.throwIfAborted();
      last = error instanceof Error ? error.message : String(error);
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
