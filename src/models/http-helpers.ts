/** What the HTTP adapters (OpenAI-compatible, Anthropic, batch) share: timeouts, Retry-After, scrubbing, URL credentials. */
import { redactUrlsIn, splitCredentials } from "../base/util/redact-url.ts";

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
 * given, is removed verbatim whatever its shape; key-like tokens, bearer and basic credentials and
 * the passwords of URLs are removed in any case.
 */
export function scrub(text: string, secret?: string): string {
  const withoutSecret = secret && secret.length >= 4 ? text.split(secret).join("[redacted]") : text;
  return redactUrlsIn(withoutSecret)
    .replace(/\b(sk|sk-proj|sk-ant|key)-[A-Za-z0-9_-]{8,}/g, "[redacted]")
    .replace(/\b(Bearer|Basic)\s+\S+/gi, "$1 [redacted]");
}

/**
 * A base URL's credentials (`https://user:password@host/v1`) as an `Authorization: Basic` value,
 * as curl sends them, and the URL without them: the only form that may be shown, logged or stored.
 */
export function baseUrlCredentials(baseURL: string): { url: string; basicAuth?: string; password?: string } {
  const { url, username, password } = splitCredentials(baseURL);
  if (username === undefined) return { url };
  return { url, basicAuth: `Basic ${Buffer.from(`${username}:${password ?? ""}`).toString("base64")}`, password: password || undefined };
}
