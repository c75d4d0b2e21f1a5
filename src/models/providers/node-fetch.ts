/**
 * A `fetch` for the HTTP SDKs built on node:http/https keep-alive agents instead of the global (undici/WHATWG
 * streams) fetch: SDK request bodies are JSON strings and responses are small JSON documents, so reading the whole
 * body into a Buffer and handing the SDK a ready `Response` costs a fraction of the streaming machinery's CPU.
 * At 128 requests in flight that CPU is the bottleneck (see perf/harness.ts). Anything it does not handle (streamed
 * request bodies) falls back to the global fetch.
 *
 * Since the body is buffered whole, its size is capped (maxResponseBytes): an endpoint is not trusted to answer a
 * sane amount, and a 300 MB answer would otherwise sit in memory once per request in flight.
 */
import http from "node:http";
import https from "node:https";
import { ModelError } from "../errors.ts";

/**
 * Default cap on a response body: a chat completion is a few KiB to a few hundred KiB even at long max_tokens, so
 * 32 MiB never cuts a real answer while 128 requests in flight stay within a few GiB at worst.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface NodeFetchOptions {
  /** Max sockets per origin (default: unlimited; the reliability wrapper's concurrency limit bounds it). */
  maxSockets?: number;
  /** Largest response body accepted, bytes (default DEFAULT_MAX_RESPONSE_BYTES); larger ones fail the request. */
  maxResponseBytes?: number;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function headerRecord(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) {
    h.forEach((v, k) => {
      out[k] = v;
    });
  } else if (Array.isArray(h)) {
    for (const [k, v] of h) out[k.toLowerCase()] = v;
  } else {
    for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  }
  return out;
}

function toHeaders(raw: string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i], raw[i + 1]);
  return h;
}

export function createNodeFetch(opts: NodeFetchOptions = {}): typeof fetch {
  const agentOpts = {
    keepAlive: true,
    maxSockets: opts.maxSockets ?? Number.POSITIVE_INFINITY,
    scheduling: "lifo" as const,
  };
  const httpAgent = new http.Agent(agentOpts);
  const httpsAgent = new https.Agent(agentOpts);
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const nodeFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    if (input instanceof Request || (body != null && typeof body !== "string" && !(body instanceof Uint8Array)))
      return fetch(input, init);
    const url = input instanceof URL ? input : new URL(input);
    const isHttps = url.protocol === "https:";
    const signal = init?.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException("This operation was aborted", "AbortError"));
        return;
      }
      const req = (isHttps ? https : http).request(
        url,
        {
          method: init?.method ?? "GET",
          headers: headerRecord(init?.headers),
          agent: isHttps ? httpsAgent : httpAgent,
          signal,
        },
        (res) => {
          // Not retryable ("client"): the same request would get the same oversized answer. The SDKs wrap what a
          // fetch throws in their connection error; the providers unwrap a ModelError cause (classify*Error).
          const tooLarge = (detail: string) => {
            req.destroy();
            reject(
              new ModelError(
                `response body over the ${maxBytes}-byte limit (maxResponseBytes; ${detail}): request abandoned`,
                "client",
              ),
            );
          };
          const declared = Number(res.headers["content-length"]);
          if (declared > maxBytes) {
            tooLarge(`content-length ${declared}`);
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size <= maxBytes) chunks.push(c);
            else if (size - c.length <= maxBytes) tooLarge("cut off while it streamed");
          });
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            try {
              resolve(
                new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), {
                  status,
                  statusText: res.statusMessage,
                  headers: toHeaders(res.rawHeaders),
                }),
              );
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on("error", reject);
      req.end(body ?? undefined);
    });
  };
  return nodeFetch as typeof fetch;
}
