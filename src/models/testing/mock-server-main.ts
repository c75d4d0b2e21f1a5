/**
 * Runs MockChatServer as its own process (benchmarks keep the server off the client's event loop):
 * `node --import tsx src/models/testing/mock-server-main.ts LATENCY_MS` prints `LISTENING <baseUrl>` on stdout.
 */
import { MockChatServer } from "./mock-server.ts";

const latencyMs = Number(process.argv[2] ?? "0");
const server = new MockChatServer({ latencyMs });
const url = await server.start();
process.stdout.write(`LISTENING ${url}\n`);
const stop = () => {
  server.stop().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
