/**
 * A cap on the size of a model's answer. A misbehaving or hostile server can send gigabytes that
 * would otherwise be held in memory and parsed; past the cap the body is not read further (the
 * connection is dropped) and the call fails for good: another try would only read as much again.
 */
import { ModelError } from "../base/errors/errors.ts";
import { formatMiB } from "../base/util/format-mib.ts";

/** Default cap on one answer's body: far above any chat completion, far below what hurts a process. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The body passed `limitBytes` (announced by Content-Length, or counted while reading). */
export class BodyTooLargeError extends Error {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`the answer is larger than ${formatMiB(limitBytes)}`);
    this.name = "BodyTooLargeError";
    this.limitBytes = limitBytes;
  }
}

/** The BodyTooLargeError in `error`'s cause chain (SDKs wrap what their `fetch` throws), if any. */
export function bodyTooLargeIn(error: unknown): BodyTooLargeError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof BodyTooLargeError) return current;
  }
  return undefined;
}

/**
 * `fetch` whose answers hold at most `maxBytes` of body: a larger Content-Length rejects at once,
 * and a body that grows past the cap errors its stream (which cancels the download). For SDKs that
 * take a `fetch`.
 */
export function limitedFetch(maxBytes: number, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const announced = Number(response.headers.get("content-length") ?? Number.NaN);
    if (announced > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new BodyTooLargeError(maxBytes);
    }
    if (response.body === null) return response;
    let seen = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) controller.error(new BodyTooLargeError(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The call's answer passed the cap: not read further, and not worth another try. */
export function responseTooLarge(who: string, endpoint: string, maxBytes: number): ModelError {
  return new ModelError(`${who} answered more than ${formatMiB(maxBytes)}; the rest was not read`, {
    kind: "bad-response",
    endpoint,
    hint: "check the server; raise --max-response-mib (SPRI_MAX_RESPONSE_MIB) if answers this large are expected",
  });
}
