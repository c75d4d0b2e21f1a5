/**
 * A local stand-in for the Hugging Face Hub (hono on 127.0.0.1, random port), written from the Hub's public HTTP API
 * as `@huggingface/hub` and huggingface_hub call it, for the download tests of models/hub.ts:
 *   GET  /api/models/ORG/NAME/revision/REV   model info with `sha` (the commit a branch resolves to)
 *   GET  /api/models/ORG/NAME/tree/REV       [{type, oid, size, path, lfs?: {oid, size, pointerSize}}]
 *   GET|HEAD /ORG/NAME/resolve/REV/FILE      the bytes; headers X-Repo-Commit, ETag ("git sha1" or "sha256"),
 *                                            and for LFS files X-Linked-Etag / X-Linked-Size and a 302 to /cdn/SHA256
 *                                            as the Hub redirects to its CDN; `Range: bytes=N-` answers 206
 * Private repos answer 401 without `Authorization: Bearer TOKEN`. `dropAfter` makes the next response of a file end
 * after that many bytes with the connection closed (a lost download).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { type Context, Hono } from "hono";

export interface HubRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

export interface HubServer {
  /** the HF_ENDPOINT to use */
  url: string;
  commit: string;
  requests: HubRequest[];
  /** the next download of `file` sends only `bytes` bytes, then drops the connection */
  dropAfter(file: string, bytes: number): void;
  close(): Promise<void>;
}

const isLfs = (p: string) => p.endsWith(".safetensors");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Uint8Array) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

export async function startHubServer(
  repo: string,
  files: Record<string, Uint8Array>,
  opts: { token?: string; branch?: string } = {},
): Promise<HubServer> {
  const commit = createHash("sha1")
    .update(`${repo}:${Object.keys(files).sort().join(",")}`)
    .digest("hex");
  const branch = opts.branch ?? "main";
  const requests: HubRequest[] = [];
  const drops = new Map<string, number>();
  const bySha = new Map<string, string>();
  for (const [p, b] of Object.entries(files)) if (isLfs(p)) bySha.set(sha256(b), p);
  const app = new Hono();
  app.use("*", async (c, next) => {
    requests.push({
      method: c.req.method,
      path: c.req.path,
      range: c.req.header("range"),
      authorization: c.req.header("authorization"),
    });
    if (opts.token && !c.req.path.startsWith("/cdn/") && c.req.header("authorization") !== `Bearer ${opts.token}`)
      return c.json({ error: "Invalid username or password." }, 401);
    await next();
  });
  const known = (c: Context) => `${c.req.param("org")}/${c.req.param("name")}` === repo;
  const knownRev = (rev: string) => rev === branch || rev === commit;
  app.get("/api/models/:org/:name/revision/:rev", (c) => {
    if (!known(c) || !knownRev(c.req.param("rev")))
      return c.json({ error: "Repository not found" }, 404, { "X-Error-Code": "RepoNotFound" });
    return c.json({
      _id: "0".repeat(24),
      id: repo,
      private: Boolean(opts.token),
      pipeline_tag: "text-generation",
      downloads: 0,
      likes: 0,
      gated: false,
      lastModified: "2026-01-01T00:00:00.000Z",
      sha: commit,
      siblings: Object.keys(files).map((rfilename) => ({ rfilename })),
    });
  });
  app.get("/api/models/:org/:name/tree/:rev", (c) => {
    if (!known(c) || !knownRev(c.req.param("rev"))) return c.json({ error: "Repository not found" }, 404);
    return c.json(
      Object.entries(files).map(([p, b]) => ({
        type: "file",
        oid: gitSha1(
          isLfs(p) ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\n`) : b,
        ),
        size: isLfs(p) ? 134 : b.length,
        path: p,
        ...(isLfs(p) ? { lfs: { oid: sha256(b), size: b.length, pointerSize: 134 } } : {}),
      })),
    );
  });
  const sendBytes = (c: Context, name: string, body: Uint8Array, extra: Record<string, string>) => {
    const headers: Record<string, string> = {
      ...extra,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(c.req.header("range") ?? "");
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) return c.body(null, 416 as 200, { "Content-Range": `bytes */${body.length}` });
      headers["Content-Range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const part = body.subarray(start);
    headers["Content-Length"] = String(part.length);
    if (c.req.method === "HEAD") return c.body(null, range ? 206 : 200, headers);
    const drop = drops.get(name);
    if (drop === undefined) return c.body(part.slice(), range ? 206 : 200, headers);
    drops.delete(name);
    // send `drop` bytes, then destroy the socket mid-body (as a lost connection does)
    const socket = (c.env as { incoming: IncomingMessage }).incoming.socket;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(part.slice(0, drop));
      },
      pull() {
        return new Promise<void>(() => setTimeout(() => socket.destroy(), 50));
      },
    });
    return c.body(stream, range ? 206 : 200, headers);
  };
  app.on(["GET", "HEAD"], "/:org/:name/resolve/:rev/*", (c) => {
    const prefix = `/${c.req.param("org")}/${c.req.param("name")}/resolve/${c.req.param("rev")}/`;
    const file = decodeURIComponent(c.req.path.slice(prefix.length));
    const body = files[file];
    if (!known(c) || !knownRev(c.req.param("rev")) || !body)
      return c.text("Entry not found", 404, { "X-Error-Code": "EntryNotFound" });
    const common = { "X-Repo-Commit": commit };
    if (isLfs(file)) {
      const oid = sha256(body);
      return c.body(null, 302, {
        ...common,
        Location: `/cdn/${oid}`,
        "X-Linked-Etag": `"${oid}"`,
        "X-Linked-Size": String(body.length),
        ETag: `"${gitSha1(Buffer.from(oid))}"`,
      });
    }
    return sendBytes(c, file, body, { ...common, ETag: `"${gitSha1(body)}"` });
  });
  app.on(["GET", "HEAD"], "/cdn/:oid", (c) => {
    const file = bySha.get(c.req.param("oid"));
    if (!file) return c.text("Not found", 404);
    return sendBytes(c, file, files[file], { ETag: `"${c.req.param("oid")}"` });
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    commit,
    requests,
    dropAfter: (file, bytes) => drops.set(file, bytes),
    close: () =>
      new Promise<void>((resolve, reject) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
