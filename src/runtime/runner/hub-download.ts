/**
 * Downloading a Hub dataset file into the cache, resumable: bytes go to `<file>.part` and a later
 * call asks only for the rest (`Range: bytes=N-`); the whole file is checked against the size and
 * checksum the Hub's listing gave (sha256 for LFS files, git's blob id otherwise) before it takes
 * its name. A file is kept under its checksum, so a cached copy is always the content the Hub
 * lists now, and a moved branch downloads the new content.
 *
 * Cache: `--cache-dir`, else `$SPRI_DATASETS_DIR`, else `$XDG_CACHE_HOME/spri/datasets`
 * (`~/.cache/spri/datasets`). Nothing in it holds the token.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../base/errors/errors.ts";
import { sha256File } from "../../io/sha256-file.ts";
import { messageOf } from "../../base/util/message-of.ts";
import { type HubAccess, type HubFile, type HubSource, hubGet, resolveUrl } from "./hub-dataset.ts";

export interface DownloadProgress {
  path: string;
  downloadedBytes: number;
  totalBytes: number;
}

export interface HubDownload {
  access: HubAccess;
  source: HubSource;
  file: HubFile;
  cacheDir: string;
  onProgress?: (progress: DownloadProgress) => void;
}

export function defaultDatasetsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPRI_DATASETS_DIR) return env.SPRI_DATASETS_DIR;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "spri", "datasets");
}

/** `<cache>/<owner>--<name>/<checksum>/<file name>`: the name keeps the extension the reader goes by. */
export function cachePathOf(cacheDir: string, source: HubSource, file: HubFile): string {
  const version = file.sha256 ?? file.gitOid ?? encodeURIComponent(source.revision);
  return path.join(cacheDir, source.repo.replaceAll("/", "--"), version, path.posix.basename(file.path));
}

/** The local copy of `file`, downloaded (or its download finished) when the cache lacks it. */
export async function downloadHubFile(download: HubDownload): Promise<string> {
  const target = cachePathOf(download.cacheDir, download.source, download.file);
  if (existsSync(target) && statSync(target).size === download.file.size) return target;
  mkdirSync(path.dirname(target), { recursive: true });
  const part = `${target}.part`;
  let kept = existsSync(part) ? statSync(part).size : 0;
  if (kept > download.file.size) {
    rmSync(part);
    kept = 0;
  }
  if (kept < download.file.size) await fetchRest(download, part, kept);
  await verify(download.file, part);
  renameSync(part, target);
  return target;
}

/** Appends the bytes from `kept` on to `part` (all of them when the server ignores the range). */
async function fetchRest(download: HubDownload, part: string, kept: number): Promise<void> {
  const { access, source, file } = download;
  const range: Record<string, string> = kept > 0 ? { range: `bytes=${kept}-` } : {};
  const response = await hubGet(access, resolveUrl(access, source, file.path), source, range, [416]);
  if (response.status === 416) {
    await response.body?.cancel();
    if (kept === 0) throw brokeOff(download, part, 0, "the server refused to send the file (HTTP 416)");
    // Nothing past what is kept: the part is stale, so start again from the first byte.
    rmSync(part, { force: true });
    return fetchRest(download, part, 0);
  }
  const resumed = response.status === 206 && response.headers.get("content-range")?.startsWith(`bytes ${kept}-`) === true;
  let written = resumed ? kept : 0;
  const handle = await open(part, resumed ? "a" : "w");
  try {
    for await (const chunk of response.body ?? []) {
      await handle.write(chunk);
      written += chunk.length;
      download.onProgress?.({ path: file.path, downloadedBytes: written, totalBytes: file.size });
    }
  } catch (error) {
    throw brokeOff(download, part, written, messageOf((error as Error).cause ?? error));
  } finally {
    await handle.close();
  }
  if (written < file.size) throw brokeOff(download, part, written, "the body ended early");
}

function brokeOff(download: HubDownload, part: string, written: number, reason: string): ConfigError {
  return new ConfigError(
    `the download of ${download.file.path} from hf:${download.source.repo} broke off after ${written} of ${download.file.size} bytes: ${reason}`,
    { field: "from", hint: `run the command again: it resumes from the bytes kept in ${part}` },
  );
}

/** The part's size and checksum against the listing; a mismatch throws the bytes away. */
async function verify(file: HubFile, part: string): Promise<void> {
  const size = statSync(part).size;
  const expected = file.sha256 ?? file.gitOid;
  const actual = file.sha256 ? await sha256File(part) : file.gitOid ? await gitBlobId(part, size) : undefined;
  if (size === file.size && actual === expected) return;
  rmSync(part, { force: true });
  throw new ConfigError(
    `the download of ${file.path} does not match the Hub's listing (${size} bytes, checksum ${actual}; expected ${file.size} bytes, checksum ${expected})`,
    {
      field: "from",
      hint: "run the command again to download it afresh; if it happens again, the mirror at HF_ENDPOINT serves other content",
    },
  );
}

/** Git's id of a file's content: sha1 of `blob <size>\0` and the bytes. */
async function gitBlobId(file: string, size: number): Promise<string> {
  const hash = createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
