import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { ApiError } from "./openai-errors.js";

export interface StartServerOptions {
  /** Anything with a fetch handler: a Hono app from createApp. */
  app: { fetch: (request: Request) => Response | Promise<Response> };
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: loopback only unless asked. */
  host?: string;
  /**
   * Let @hono/node-server replace the global Request and Response with its lightweight ones, which
   * skip building web streams for plain bodies (roughly a third of a short request's cost). Right for
   * a process that only serves (`deliberate serve`); a library embedding the server keeps its
   * globals untouched by default.
   */
  overrideGlobals?: boolean;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 (no trailing slash; the API lives under /v1). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Stops accepting, ends open connections (streams included) and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

const hostForUrl = (host: string): string => (host.includes(":") ? `[${host}]` : host);

/** Serves an app over HTTP on a real port. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const listener = getRequestListener((request) => options.app.fetch(request), {
    overrideGlobalObjects: options.overrideGlobals ?? false,
    // A request Node cannot even turn into a Request (a malformed URL or Host) still gets an OpenAI error.
    errorHandler: () => new ApiError(400, "invalid_request", "the request could not be read").toResponse(),
  });
  const server = createServer((req, res) => {
    void listener(req, res);
  });
  // A client that sends garbage instead of HTTP gets 400 and is closed, without touching the app.
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl(host)}:${port}`,
    port,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets and open streams would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
