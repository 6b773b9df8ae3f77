/**
 * vLLM's runtime LoRA loading, as a responder of the fake model server: `POST /v1/load_lora_adapter`
 * ({lora_name, lora_path}) loads an "adapter", a directory whose `answer.txt` is what the adapter
 * answers; chat completions for a loaded name answer with it, and every other model with `answer`.
 * Loading a name twice is refused as vLLM refuses it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeReply, json, openaiText, raw, type RecordedRequest, type Responder } from "./fake-replies.ts";

export interface FakeVllmLora {
  readonly respond: Responder;
  /** Loaded adapters: name → path. */
  readonly adapters: Map<string, string>;
}

export function fakeVllmLora(answer: Responder): FakeVllmLora {
  const adapters = new Map<string, string>();
  const load = (request: RecordedRequest): FakeReply => {
    const body = (request.body ?? {}) as { lora_name?: string; lora_path?: string };
    if (!body.lora_name || !body.lora_path)
      return json(400, { object: "error", message: "lora_name and lora_path are required", code: 400 });
    if (adapters.has(body.lora_name))
      return json(400, { object: "error", message: `The lora adapter '${body.lora_name}' has already been loaded.`, code: 400 });
    if (!existsSync(join(body.lora_path, "answer.txt")))
      return json(400, { object: "error", message: `no adapter at ${body.lora_path}`, code: 400 });
    adapters.set(body.lora_name, body.lora_path);
    return raw(200, `Success: LoRA adapter '${body.lora_name}' added successfully.`, "text/plain");
  };
  const respond: Responder = (request) => {
    if (request.method === "POST" && request.path === "/v1/load_lora_adapter") return load(request);
    const model = (request.body as { model?: string } | undefined)?.model ?? "";
    const path = adapters.get(model);
    if (request.path === "/v1/chat/completions" && path) return openaiText(readFileSync(join(path, "answer.txt"), "utf8"));
    return answer(request);
  };
  return { respond, adapters };
}
