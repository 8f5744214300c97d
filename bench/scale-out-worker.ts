/**
 * One worker process for bench/scale-out.ts: a RedisTaskWorker whose model is the scripted backend
 * with a fixed delay per call. argv: REDIS_URL PREFIX CALL_MS CONCURRENCY. Prints "ready".
 */
import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import { RedisTaskWorker } from "../src/tasks/redis/redis-task-worker.js";
import { createTaskResolver } from "../src/tasks/task-resolver.js";

const [url, prefix, callMs, concurrency] = process.argv.slice(2);
const inner = createScriptedBackend({ respond: ["Six times seven is 42. The answer is 42"] });
const backend: Backend = {
  kind: inner.kind,
  model: inner.model,
  capabilities: inner.capabilities,
  async generate(request) {
    await new Promise((resolve) => setTimeout(resolve, Number(callMs)));
    return inner.generate(request);
  },
  close: () => inner.close(),
};
const worker = new RedisTaskWorker({
  url: url as string,
  prefix: prefix as string,
  concurrency: Number(concurrency),
  resolve: createTaskResolver({ backend: () => backend }),
});
await worker.ready();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
