/**
 * The Hugging Face Hub's file API for datasets, as a responder of the fake model server, for the
 * corpus loaders (`spri discover corpus --from hf:…`):
 *
 *   GET /api/datasets/:owner/:name/tree/:revision[/:path]?recursive=true[&cursor=…]
 *        the files and folders, `pageSize` at a time with a `Link: <…>; rel="next"` header
 *   GET /datasets/:owner/:name/resolve/:revision/:path
 *        the file's bytes; `Range: bytes=N-` answers 206 with the rest; with `redirect`, LFS
 *        files (Parquet, .gz) answer 302 to /cdn/<sha256>, as the Hub sends them to its CDN
 *
 * A revision in a URL is one encoded segment (`refs%2Fconvert%2Fparquet`). With `token` set, every
 * request needs `Authorization: Bearer <token>` (401 otherwise). `cutFirst = n` breaks off the first
 * download of each file after n bytes, as a dropped connection does.
 */
import { createHash } from "node:crypto";
import { cutBody, type FakeReply, json, raw, type RecordedRequest, type Responder } from "./fake-replies.ts";
import { startFakeModelServer } from "./fake-model-server.ts";

/** repository id → revision → path in the repository → content. */
export type FakeHubDatasets = Record<string, Record<string, Record<string, string | Uint8Array>>>;

export interface FakeHubApiOptions {
  datasets: FakeHubDatasets;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** Tree entries per page (default: all on one page). */
  pageSize?: number;
  /** LFS files are served by a redirect to /cdn/<sha256>. */
  redirect?: boolean;
  /** The first download of each file breaks off after this many bytes. */
  cutFirst?: number;
}

export interface FakeHubApi {
  readonly respond: Responder;
  /** Every request as `METHOD /path?query`, and ` range=<Range>` when one was sent, in arrival order. */
  readonly log: string[];
}

export interface FakeHubServer extends Omit<FakeHubApi, "respond"> {
  /** `http://127.0.0.1:<port>`: what HF_ENDPOINT (or --hub-url) points at. */
  readonly url: string;
  close(): Promise<void>;
}

interface TreeEntry {
  type: "file" | "directory";
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

const bytesOf = (content: string | Uint8Array) => (typeof content === "string" ? Buffer.from(content) : Buffer.from(content));
const isLfs = (path: string) => /\.(parquet|gz)$/.test(path);
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
/** Git's blob id: sha1 of `blob <size>\0` and the content. */
const gitOid = (bytes: Buffer) => createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");

function treeOf(files: Record<string, string | Uint8Array>, under: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const folders = new Set<string>();
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    if (under !== "" && !path.startsWith(`${under}/`)) continue;
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join("/"));
    const bytes = bytesOf(content);
    const lfs = isLfs(path) ? { oid: sha256(bytes), size: bytes.length, pointerSize: 134 } : undefined;
    entries.push({ type: "file", oid: gitOid(bytes), size: bytes.length, path, ...(lfs ? { lfs } : {}) });
  }
  const dirs = [...folders].filter((f) => under === "" || f.startsWith(`${under}/`));
  return [...dirs.map((path): TreeEntry => ({ type: "directory", oid: gitOid(Buffer.from(path)), size: 0, path })), ...entries];
}

export function fakeHubApi(options: FakeHubApiOptions): FakeHubApi {
  const downloads = new Map<string, number>();
  const log: string[] = [];
  const notFound = (message: string) => json(404, { error: message }, { "x-error-code": "RepoNotFound" });

  const tree = (request: RecordedRequest, files: Record<string, string | Uint8Array>, under: string): FakeReply => {
    const all = treeOf(files, under);
    const query = new URLSearchParams(request.query ?? "");
    const start = Number(query.get("cursor") ?? 0);
    const size = options.pageSize ?? all.length;
    const page = all.slice(start, start + size);
    if (start + size >= all.length) return json(200, page);
    query.set("cursor", String(start + size));
    const next = `http://${request.headers.host}${request.path}?${query}`;
    return json(200, page, { link: `<${next}>; rel="next"` });
  };

  const file = (request: RecordedRequest, content: string | Uint8Array, key: string): FakeReply => {
    const bytes = bytesOf(content);
    const headers = { etag: `"${sha256(bytes)}"`, "accept-ranges": "bytes" };
    const times = (downloads.get(key) ?? 0) + 1;
    downloads.set(key, times);
    const from = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ""));
    if (from) {
      const start = Number(from[1]);
      if (start >= bytes.length) return raw(416, "", "text/plain", { "content-range": `bytes */${bytes.length}` });
      return raw(206, bytes.subarray(start), "application/octet-stream", {
        ...headers,
        "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      });
    }
    if (options.cutFirst !== undefined && times === 1) return cutBody(bytes, options.cutFirst, headers);
    return raw(200, bytes, "application/octet-stream", headers);
  };

  const route = (request: RecordedRequest): FakeReply => {
    log.push(
      `${request.method} ${request.path}${request.query ? `?${request.query}` : ""}${request.headers.range ? ` range=${request.headers.range}` : ""}`,
    );
    if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) {
      return json(401, { error: "Invalid credentials in Authorization header" });
    }
    const segments = request.path.split("/").map(decodeURIComponent);
    const cdn = segments[1] === "cdn" ? segments[2] : undefined;
    if (cdn !== undefined) return cdnFile(cdn, request);
    const api = segments[1] === "api" ? 1 : 0;
    const [kind, owner, name, verb, revision, ...rest] = segments.slice(1 + api);
    if (request.method !== "GET" || kind !== "datasets" || revision === undefined) return notFound(`no route for ${request.path}`);
    const repo = options.datasets[`${owner}/${name}`];
    if (!repo) return notFound("Repository not found");
    const files = repo[revision];
    if (!files) return json(404, { error: `Invalid rev id: ${revision}` }, { "x-error-code": "RevisionNotFound" });
    const path = rest.join("/");
    if (api && verb === "tree") return tree(request, files, path);
    if (!api && verb === "resolve") {
      const content = files[path];
      if (content === undefined) return json(404, { error: "Entry not found" }, { "x-error-code": "EntryNotFound" });
      if (options.redirect && isLfs(path)) return raw(302, "", "text/plain", { location: `/cdn/${sha256(bytesOf(content))}` });
      return file(request, content, `${owner}/${name}@${revision}/${path}`);
    }
    return notFound(`no route for ${request.path}`);
  };

  const cdnFile = (hash: string, request: RecordedRequest): FakeReply => {
    for (const [repo, revisions] of Object.entries(options.datasets)) {
      for (const [revision, files] of Object.entries(revisions)) {
        for (const [path, content] of Object.entries(files)) {
          if (sha256(bytesOf(content)) === hash) return file(request, content, `${repo}@${revision}/${path}`);
        }
      }
    }
    return json(404, { error: "no such object" });
  };

  return { respond: route, log };
}

/** A fake model server that plays the Hub's dataset file API. */
export async function startFakeHubServer(options: FakeHubApiOptions): Promise<FakeHubServer> {
  const api = fakeHubApi(options);
  const server = await startFakeModelServer({ respond: api.respond });
  return { log: api.log, url: server.url, close: () => server.close() };
}
