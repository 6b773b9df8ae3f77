/**
 * Datasets on the Hugging Face Hub, by id: `hf:ID[@revision][:split]` names them, the Hub's tree
 * API (`/api/datasets/<id>/tree/<revision>?recursive=true`, paged by `Link: rel="next"`) lists their
 * files, and a split is the data files named for it (`data/train-00000-of-00002.parquet`,
 * `helpful-base/train.jsonl.gz`, `default/train/0000.parquet`). hub-download.ts fetches them.
 *
 * Contracts: the endpoint is --hub-url, else HF_ENDPOINT, else https://huggingface.co; HF_TOKEN
 * goes only into the Authorization header of requests to it, never into a message, a log or a
 * file. A failure says which dataset, revision or split, and what to do.
 */
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { messageOf } from "../../base/util/message-of.ts";

export interface HubSource {
  /** `owner/name` (or a bare legacy name). */
  repo: string;
  /** A branch, tag or commit; `refs/convert/parquet` holds the Hub's Parquet conversion. */
  revision: string;
  /** A split name (`train`), optionally under a folder or config (`helpful-base/train`). */
  split: string;
}

export interface HubAccess {
  /** The Hub's base URL, no trailing slash. */
  endpoint: string;
  token?: string;
}

export interface HubFile {
  path: string;
  size: number;
  /** The content's sha256, for files kept in LFS (the Hub says so in the listing). */
  sha256?: string;
  /** Git's blob id, for files kept in git. */
  gitOid?: string;
}

export const DEFAULT_HUB_ENDPOINT = "https://huggingface.co";
const SOURCE_FORM = "hf:ID[@revision][:split], e.g. hf:Anthropic/hh-rlhf:train or hf:hotpotqa/hotpot_qa:distractor/validation";
const HUB_SOURCE = /^hf:([^@:/\s]+(?:\/[^@:/\s]+)?)(?:@([^:\s]+))?(?::([^:\s]+))?$/;
const DATA_FILE = /\.(parquet|jsonl|ndjson|json)(\.gz)?$/i;

export function isHubSource(from: string): boolean {
  return from.startsWith("hf:");
}

export function parseHubSource(from: string): HubSource {
  const match = HUB_SOURCE.exec(from);
  if (!match) throw new InputError(`"${from}" is not a Hub dataset`, { field: "from", hint: `write ${SOURCE_FORM}` });
  return { repo: match[1]!, revision: match[2] ?? "main", split: match[3] ?? "train" };
}

/** Where the Hub is and the token to show it: --hub-url over HF_ENDPOINT; HF_TOKEN. */
export function hubAccess(options: { hubUrl?: string; env?: NodeJS.ProcessEnv }): HubAccess {
  const env = options.env ?? process.env;
  const endpoint = (options.hubUrl || env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT).replace(/\/+$/, "");
  return { endpoint, token: env.HF_TOKEN || undefined };
}

const repoPath = (repo: string) => repo.split("/").map(encodeURIComponent).join("/");
const describe = (source: Pick<HubSource, "repo" | "revision">) => `hf:${source.repo}@${source.revision}`;

export function treeUrl(access: HubAccess, source: HubSource): string {
  return `${access.endpoint}/api/datasets/${repoPath(source.repo)}/tree/${encodeURIComponent(source.revision)}?recursive=true&expand=false`;
}

export function resolveUrl(access: HubAccess, source: HubSource, path: string): string {
  const file = path.split("/").map(encodeURIComponent).join("/");
  return `${access.endpoint}/datasets/${repoPath(source.repo)}/resolve/${encodeURIComponent(source.revision)}/${file}`;
}

/**
 * A GET to the Hub with the token; a refusal, a missing dataset or revision, or no answer at all
 * becomes an error that says what to do. `allow` lets a caller take statuses it handles itself.
 */
export async function hubGet(
  access: HubAccess,
  url: string,
  source: HubSource,
  headers: Record<string, string> = {},
  allow: readonly number[] = [],
): Promise<Response> {
  const authorization: Record<string, string> = access.token ? { authorization: `Bearer ${access.token}` } : {};
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...headers, ...authorization } });
  } catch (error) {
    throw new ConfigError(`could not reach the Hugging Face Hub at ${access.endpoint}: ${messageOf((error as Error).cause ?? error)}`, {
      field: "from",
      cause: error,
      hint: "check the network, or point HF_ENDPOINT (or --hub-url) at a reachable mirror; a downloaded file works with --from FILE",
    });
  }
  if (response.ok || allow.includes(response.status)) return response;
  throw await hubRefusal(access, source, response);
}

async function hubRefusal(access: HubAccess, source: HubSource, response: Response): Promise<Error> {
  const said = await response.text().then(
    (text) => {
      try {
        return String((JSON.parse(text) as { error?: unknown }).error ?? text);
      } catch {
        return text;
      }
    },
    () => "",
  );
  const code = response.headers.get("x-error-code");
  const status = response.status;
  if (status === 401 || status === 403) {
    return new ConfigError(`the Hub at ${access.endpoint} refused access to ${describe(source)} (HTTP ${status})`, {
      field: "from",
      hint: access.token
        ? "the token in HF_TOKEN was refused: check that it can read this dataset and that its terms are accepted on the Hub"
        : "set HF_TOKEN to a Hub token that can read this dataset (gated and private datasets need one)",
    });
  }
  if (status === 404 && code === "RevisionNotFound") {
    return new InputError(`${source.repo} has no revision "${source.revision}"`, {
      field: "from",
      hint: "name a branch, tag or commit that exists, or leave out @revision for main",
    });
  }
  if (status === 404) {
    return new InputError(`no dataset ${source.repo} (or no file there) on ${access.endpoint}: ${said || "not found"}`, {
      field: "from",
      hint: "check the dataset id; a private dataset also answers 404 without HF_TOKEN",
    });
  }
  return new ConfigError(`the Hub at ${access.endpoint} answered HTTP ${status} for ${describe(source)}: ${said.slice(0, 300)}`, {
    field: "from",
    hint: "try again later, or download the files yourself and pass --from FILE",
  });
}

interface TreeEntry {
  type?: unknown;
  path?: unknown;
  size?: unknown;
  oid?: unknown;
  lfs?: { oid?: unknown; size?: unknown } | null;
}

/** The next page's URL from a `Link` header, if any. */
function nextPage(link: string | null): string | undefined {
  return link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
}

/** Every data file of the revision (Parquet, JSON Lines, JSON; gzipped too), every page read. */
export async function listDataFiles(access: HubAccess, source: HubSource): Promise<HubFile[]> {
  const files: HubFile[] = [];
  for (let url: string | undefined = treeUrl(access, source); url !== undefined; ) {
    const response = await hubGet(access, url, source, { accept: "application/json" });
    const entries = (await response.json()) as TreeEntry[];
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (entry.type !== "file" || typeof entry.path !== "string" || !DATA_FILE.test(entry.path)) continue;
      const lfs = entry.lfs && typeof entry.lfs.oid === "string" ? entry.lfs.oid : undefined;
      files.push({
        path: entry.path,
        size: Number(entry.size),
        ...(lfs ? { sha256: lfs } : typeof entry.oid === "string" ? { gitOid: entry.oid } : {}),
      });
    }
    url = nextPage(response.headers.get("link"));
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Whether a file belongs to the split: under its folder when the split names one, and either in a
 * folder of the split's name or named for it (`train.jsonl`, `train-00000-of-00002.parquet`; not
 * `train_prefs-…`, a split of its own).
 */
export function inSplit(path: string, split: string): boolean {
  const parts = split.split("/");
  const name = parts.pop()!;
  const folder = parts.join("/");
  if (folder !== "" && !path.startsWith(`${folder}/`)) return false;
  const segments = (folder === "" ? path : path.slice(folder.length + 1)).split("/");
  const base = segments.pop()!;
  return segments.includes(name) || base === name || base.startsWith(`${name}.`) || base.startsWith(`${name}-`);
}

/** The split's data files; none is an InputError listing the data files there are. */
export async function resolveSplitFiles(access: HubAccess, source: HubSource): Promise<HubFile[]> {
  const all = await listDataFiles(access, source);
  const files = all.filter((file) => inSplit(file.path, source.split));
  if (files.length > 0) return files;
  const there =
    all.length === 0
      ? "none"
      : all
          .slice(0, 8)
          .map((f) => f.path)
          .join(", ") + (all.length > 8 ? ", …" : "");
  throw new InputError(`${describe(source)} has no data files for split "${source.split}"`, {
    field: "from",
    hint:
      `data files there: ${there}. Name the split as a folder or file prefix (e.g. :helpful-base/train)` +
      (source.revision === "refs/convert/parquet"
        ? ""
        : `, or read the Hub's Parquet conversion with hf:${source.repo}@refs/convert/parquet:<config>/<split>`),
  });
}
