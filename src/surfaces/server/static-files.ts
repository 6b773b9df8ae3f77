/**
 * Serves the built web app (web/dist) and nothing else: a request path is decoded, checked for
 * traversal (`..`, backslashes, NUL, absolute parts) and resolved inside the root, and the real path
 * (symlinks followed) must still be inside it. The app's own routes (/runs/<id>/items/<item id>,
 * /playground), and any other path without a file extension, get index.html, so a reload or a shared
 * link loads the app; an item id may look like a file name (`q1.json`, `v1.2`).
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import { CONTENT_SECURITY_POLICY } from "./safety.ts";

/**
 * web/dist beside src/ and dist/: this file is src/surfaces/server/*.ts, dist/surfaces/server/*.js or
 * part of the CLI bundle dist/surfaces/cli/bundle.js, all three folders below the package's root.
 */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../../web/dist", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

const MISSING_APP = `<!doctype html><html><head><meta charset="utf-8"><title>spri viewer</title></head>
<body><p>The viewer app is not built. Run <code>npm run build</code> in the spri checkout, then start <code>spri view</code> again.</p></body></html>`;

/** The file under `root` that `requestPath` names, or undefined when it is outside or invalid. */
export function resolveStatic(root: string, requestPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const parts = decoded.split("/").filter((part) => part !== "");
  if (parts.some((part) => part === ".." || part === "." || /^[a-zA-Z]:/.test(part))) return undefined;
  const base = resolve(root);
  const file = resolve(base, ...parts);
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  return file;
}

function inside(root: string, file: string): boolean {
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(file);
    return real === realRoot || real.startsWith(realRoot + sep);
  } catch {
    return false;
  }
}

/** The pages of web/src/router.tsx: what follows their prefix is ids, never a file. */
const APP_ROUTES = /^\/(?:runs|playground)(?:\/|$)/;

export function serveStatic(root: string) {
  return (c: Context): Response => {
    const path = c.req.path;
    if (APP_ROUTES.test(path)) return app(c, root);
    const file = resolveStatic(root, path);
    if (file === undefined) return c.json({ error: "bad path" }, 400);
    const hasExtension = extname(path) !== "";
    if (!hasExtension || !existsSync(file) || !statSync(file).isFile()) {
      return hasExtension ? c.json({ error: "not found" }, 404) : app(c, root);
    }
    if (!inside(root, file)) return c.json({ error: "not found" }, 404);
    const type = TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    const body = readFileSync(file);
    if (type.startsWith("text/html")) return html(c, body.toString("utf8"));
    const immutable = path.startsWith("/assets/");
    return c.body(body, 200, {
      "Content-Type": type,
      "Cache-Control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
  };
}

/** The app's index.html (or a page saying to build it). */
function app(c: Context, root: string): Response {
  const index = resolve(root, "index.html");
  if (!existsSync(index)) return html(c, MISSING_APP);
  if (!inside(root, index)) return c.json({ error: "not found" }, 404);
  return html(c, readFileSync(index, "utf8"));
}

function html(c: Context, text: string): Response {
  return c.body(text, 200, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
  });
}
