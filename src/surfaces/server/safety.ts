/**
 * Who may talk to `spri view`. Bound to loopback (the default), the server answers only requests
 * whose Host is 127.0.0.1, localhost or [::1] with the bound port (DNS rebinding gets 403) and whose
 * Origin, when sent, is one of those too (another site's page gets 403). Bound anywhere else, it
 * also needs a token: in the `x-spri-token` header, as `Authorization: Bearer <token>`, or in the
 * `spri_token` cookie, which a page request with `?token=<token>` sets (and then redirects without it).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ConfigError } from "../../base/errors/errors.ts";

export interface AccessOptions {
  /** The address the server is bound to (default 127.0.0.1). */
  host?: string;
  /** The port it listens on. */
  port: number;
  /** Required when `host` is not a loopback address; at least `MIN_TOKEN_LENGTH` characters. */
  token?: string;
}

export const TOKEN_COOKIE = "spri_token";
export const TOKEN_HEADER = "x-spri-token";

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

function isWildcard(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "0.0.0.0" || bare === "::" || bare === "";
}

/** `host` as it appears in a Host header (IPv6 in brackets). */
function hostName(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host.toLowerCase();
}

export function generateToken(): string {
  return randomBytes(24).toString("base64url");
}

/** A token anyone on the network could guess in a few tries protects nothing. */
export const MIN_TOKEN_LENGTH = 16;

/** Refuses a token shorter than `MIN_TOKEN_LENGTH` (generated ones have 32 characters). */
export function checkToken(token: string): void {
  if (token.length >= MIN_TOKEN_LENGTH) return;
  throw new ConfigError(`the access token is too short: ${token.length} of at least ${MIN_TOKEN_LENGTH} characters`, {
    field: "token",
    hint: "leave --token out (and SPRI_VIEW_TOKEN unset) and spri view generates a strong one and prints it, or pass a long random one",
  });
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface AccessPolicy {
  /** Whether a Host header value (name and port) may be answered. */
  hostAllowed(host: string): boolean;
  /** Whether an Origin may make requests, given the request's Host. */
  originAllowed(origin: string, host: string): boolean;
  readonly token?: string;
}

export function accessPolicy(options: AccessOptions): AccessPolicy {
  const bound = options.host ?? "127.0.0.1";
  const loopback = isLoopback(bound);
  if (!loopback && !options.token) {
    throw new ConfigError(`binding to ${bound} (not loopback) needs a token`, {
      field: "token",
      hint: "leave --token out and spri view generates one",
    });
  }
  if (options.token !== undefined) checkToken(options.token);
  const port = String(options.port);
  const names = new Set(LOOPBACK_NAMES);
  if (!isWildcard(bound)) names.add(hostName(bound));
  const any = isWildcard(bound);
  const hostAllowed = (host: string): boolean => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(host.trim());
    if (!match) return false;
    const name = match[1]!.toLowerCase();
    const hostPort = match[2] ?? "80";
    if (hostPort !== port) return false;
    return any || names.has(name);
  };
  return {
    hostAllowed,
    originAllowed(origin, host) {
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        return false;
      }
      if (url.protocol !== "http:") return false;
      // The page must come from this server: the same host and port that the request names.
      return url.host.toLowerCase() === host.trim().toLowerCase() && hostAllowed(url.host);
    },
    token: options.token,
  };
}

/** Refuses foreign Host and Origin headers, and requests without the token when one is set. */
export function accessGuard(policy: AccessPolicy): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!policy.hostAllowed(host)) return c.json({ error: "forbidden: unknown Host" }, 403);
    const origin = c.req.header("origin");
    if (origin !== undefined && !policy.originAllowed(origin, host)) return c.json({ error: "forbidden: foreign Origin" }, 403);
    if (c.req.header("sec-fetch-site") === "cross-site") return c.json({ error: "forbidden: cross-site request" }, 403);
    if (policy.token !== undefined) {
      const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      const given = c.req.header(TOKEN_HEADER) ?? bearer ?? cookieValue(c.req.header("cookie"), TOKEN_COOKIE);
      if (given === undefined || !sameSecret(given, policy.token)) {
        // A page opened with the printed link: remember the token in a cookie, then drop it from the URL.
        const query = c.req.query("token");
        const url = new URL(c.req.url);
        if (c.req.method === "GET" && query !== undefined && sameSecret(query, policy.token) && !url.pathname.startsWith("/api/")) {
          url.searchParams.delete("token");
          const location = `${url.pathname}${url.search}`;
          c.header("Set-Cookie", `${TOKEN_COOKIE}=${encodeURIComponent(policy.token)}; Path=/; HttpOnly; SameSite=Strict`);
          return c.redirect(location, 303);
        }
        return c.json({ error: "unauthorized: this server needs its token (open the link `spri view` printed)" }, 401);
      }
    }
    await next();
  };
}

/** Headers every answer carries. HTML also gets a strict Content-Security-Policy. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Resource-Policy", "same-origin");
    if (c.req.path.startsWith("/api/")) c.header("Cache-Control", "no-store");
  };
}

const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
const SECRET_QUERY = /([?&](?:api[-_]?key|key|token|access[-_]?token|secret|password|sig|signature)=)[^&#\s]*/gi;

/**
 * `value` with credentials that may hide in URLs removed (`https://user:pass@host`,
 * `?api_key=...`), deeply, and credential-named fields redacted. For what the API sends out:
 * settings, model and endpoint ids, paths.
 */
export function scrubSecrets<T>(value: T): T {
  return scrub(value) as T;
}

function scrub(value: unknown): unknown {
  if (typeof value === "string") return value.replace(URL_USERINFO, "$1[redacted]@").replace(SECRET_QUERY, "$1[redacted]");
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) out[name] = scrub(field);
  return out;
}
