/**
 * Optional peer dependencies: packages spri loads only for the features that need them, so that a
 * library install (`npm install spri`) leaves them out. node-llama-cpp brings hundreds of MB of
 * native builds; the openai SDK (35 MB) serves only `--http-client openai-sdk`, OpenAI embeddings
 * and the Batch API, since chat goes over undici. This repository installs them as dev dependencies.
 *
 * Contract: the ranges here are package.json's `peerDependencies` (a test keeps them equal); a
 * missing or unloadable package is a ConfigError that names the feature and the install command.
 */
import { ConfigError } from "../errors/errors.ts";
import { messageOf } from "./message-of.ts";

export const OPTIONAL_PEERS = {
  "@anthropic-ai/sdk": "^1.12.0",
  "node-llama-cpp": "^3.21.1",
  openai: "^7.57.0",
} as const;

export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

export interface OptionalPeerOptions {
  /** What else the user can do instead, appended to the hint. */
  hint?: string;
  /** The module to import instead of the package (tests). */
  specifier?: string;
}

/** Imports `name` for `feature` (e.g. "local GGUF models"); Node's module cache makes repeats free. */
export async function importOptionalPeer<T>(name: OptionalPeer, feature: string, options: OptionalPeerOptions = {}): Promise<T> {
  const specifier = options.specifier ?? name;
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const install = `\`npm install ${name}@${OPTIONAL_PEERS[name]}\``;
    const alternative = options.hint === undefined ? "" : `; ${options.hint}`;
    if (isNotInstalled(error, specifier)) {
      throw new ConfigError(`${name} is not installed: spri needs it for ${feature} (an optional peer dependency)`, {
        cause: error,
        hint: `install it beside spri: ${install}${alternative}`,
      });
    }
    const reason = messageOf(error);
    throw new ConfigError(`${name} could not be loaded (spri needs it for ${feature}): ${reason}`, {
      cause: error,
      hint: `reinstall it: ${install}${alternative}`,
    });
  }
}

function isNotInstalled(error: unknown, specifier: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "ERR_MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${specifier}'`);
}
