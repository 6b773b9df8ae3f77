/**
 * The official OpenAI SDK client that the Batch API and fine-tuning adapters share: credentials read
 * once from the key or the base URL (`Authorization: Basic` when the URL carries them and no key is
 * given), the SDK loaded on the first request only (it is an optional peer), and every call's failure
 * turned into a scrubbed ModelError (openai-sdk-errors.ts).
 */
import type OpenAI from "openai";
import type { ModelError, ModelErrorKind } from "../base/errors/errors.ts";
import { importOptionalPeer } from "../base/util/optional-peer.ts";
import { baseUrlCredentials } from "./http-helpers.ts";
import { openaiSdkError } from "./openai-sdk-errors.ts";

export interface OpenAISdkOptions {
  /** Defaults to https://api.openai.com/v1. */
  baseURL?: string;
  apiKey?: string;
  /** Per request (uploads and downloads of big files included). Default 10 minutes. */
  timeoutMs?: number;
  /** SDK retries of 429/5xx/network failures per request. Default 4. */
  maxRetries?: number;
}

export interface OpenAISdkUse {
  /** What needs the SDK, for the message when it is not installed (e.g. "the OpenAI Batch API (--batch)"). */
  feature: string;
  /** What to do instead when it is not installed. */
  installHint: string;
  /** What to do after a failure of this kind, if anything more than the message says. */
  errorHint: (kind: ModelErrorKind) => string | undefined;
}

export class OpenAISdkClient {
  readonly endpoint: string;
  private readonly options: OpenAISdkOptions;
  private readonly use: OpenAISdkUse;
  /** What scrubbing removes from messages: the key, else the base URL's password. */
  private readonly secret?: string;
  /** `Authorization: Basic` from credentials in the base URL, sent when no key is given. */
  private readonly basicAuth?: string;
  private sdk: { module: typeof import("openai"); client: OpenAI } | undefined;

  constructor(options: OpenAISdkOptions, use: OpenAISdkUse) {
    const credentials = baseUrlCredentials((options.baseURL ?? "https://api.openai.com/v1").replace(/\/+$/, ""));
    this.endpoint = credentials.url.replace(/\/+$/, "");
    this.secret = options.apiKey ?? credentials.password;
    this.basicAuth = options.apiKey === undefined ? credentials.basicAuth : undefined;
    this.options = options;
    this.use = use;
  }

  /** Runs `fn` with the client; a failure comes back as a ModelError about `what`. */
  async call<T>(what: string, fn: (client: OpenAI) => Promise<T>): Promise<T> {
    const client = await this.client();
    try {
      return await fn(client);
    } catch (error) {
      throw this.toModelError(what, error);
    }
  }

  toModelError(what: string, error: unknown): ModelError {
    return openaiSdkError(error, {
      what,
      endpoint: this.endpoint,
      secret: this.secret,
      module: this.sdk?.module,
      hint: this.use.errorHint,
    });
  }

  private async client(): Promise<OpenAI> {
    if (!this.sdk) {
      const module = await importOptionalPeer<typeof import("openai")>("openai", this.use.feature, { hint: this.use.installHint });
      const client = new module.default({
        baseURL: this.endpoint,
        apiKey: this.options.apiKey ?? "not-needed",
        timeout: Math.max(1, Math.ceil(this.options.timeoutMs ?? 600_000)),
        maxRetries: this.options.maxRetries ?? 4,
        ...(this.basicAuth === undefined ? {} : { defaultHeaders: { authorization: this.basicAuth } }),
      });
      this.sdk = { module, client };
    }
    return this.sdk.client;
  }
}
