/** What the HTTP adapters (OpenAI-compatible, Anthropic, batch) share: timeouts, Retry-After, scrubbing. */

/** SDKs want whole, positive milliseconds. */
export function wholeMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** Seconds the server asked to wait (`Retry-After` as seconds or an HTTP date), when it said. */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  return parseRetryAfter(headers?.get?.("retry-after"));
}

/** A `Retry-After` value (seconds or an HTTP date) in seconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/**
 * Servers sometimes echo the key they were given; never let it into a message. `secret`, when
 * given, is removed verbatim whatever its shape; key-like tokens are removed in any case.
 */
export function scrub(text: string, secret?: string): string {
  const withoutSecret = secret && secret.length >= 4 ? text.split(secret).join("[redacted]") : text;
  return withoutSecret.replace(/\b(sk|sk-proj|sk-ant|key)-[A-Za-z0-9_-]{8,}/g, "[redacted]").replace(/Bearer\s+\S+/gi, "Bearer [redacted]");
}
