/** Starts the viewer's HTTP server (Node's http through @hono/node-server). */
import type { AddressInfo } from "node:net";
import { ConfigError } from "../../base/errors/errors.ts";
import { type AppOptions, createApp, type ViewerApp } from "./app.ts";
import { checkToken } from "./safety.ts";

export interface ServeOptions extends Omit<AppOptions, "access"> {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token?: string;
}

export interface RunningViewer extends ViewerApp {
  /** The address to open, e.g. `http://127.0.0.1:8417/` (with `?token=` when there is one). */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startViewer(options: ServeOptions): Promise<RunningViewer> {
  const host = options.host ?? "127.0.0.1";
  // A weak token is refused before anything listens (the guard checks it again once the port is known).
  if (options.token !== undefined) checkToken(options.token);
  // The guard needs the real port, which a request for port 0 learns only once listening: the app
  // is created with it then, and requests that come before are answered 503.
  let viewer: ViewerApp | undefined;
  // Loaded here, not with the module: it imports node:http, whose exports (WebSocket among them)
  // load Node's own fetch stack, ~20 ms at the start of every CLI command that never serves.
  const { serve } = await import("@hono/node-server");
  const server = serve({
    fetch: (request, env) => (viewer ? viewer.app.fetch(request, env) : new Response("starting", { status: 503 })),
    port: options.port,
    hostname: host,
  });
  const port = await new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => reject(listenError(error, host, options.port));
    server.once("error", failed);
    server.once("listening", () => {
      server.off("error", failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
  viewer = createApp({ ...options, access: { host, port, token: options.token } });
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const base = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}/`;
  return {
    ...viewer,
    port,
    url: options.token ? `${base}?token=${encodeURIComponent(options.token)}` : base,
    close: () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that is taken or not ours to bind is the user's to change, not a crash. */
function listenError(error: Error & { code?: string }, host: string, port: number): Error {
  const why = error.code === "EADDRINUSE" ? "is in use" : error.code === "EACCES" ? "needs privileges this user lacks" : undefined;
  if (why === undefined) return error;
  return new ConfigError(`port ${port} on ${host} ${why}`, {
    field: "port",
    cause: error,
    hint: "stop what listens there, or choose another with --port (0 picks a free one)",
  });
}
