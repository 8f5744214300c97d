/**
 * Test fixture: a worker process whose model never answers, to be killed mid-task with SIGKILL.
 * argv: REDIS_URL PREFIX LOCK_MS. Prints "calling" when a model call starts.
 */

import { createScriptedBackend } from "../src/backends/scripted/scripted-backend.js";
import type { Backend } from "../src/core/backend.js";
import { RedisTaskWorker } from "../src/tasks/redis/redis-task-worker.js";
import { createTaskResolver } from "../src/tasks/task-resolver.js";

const [url, prefix, lockMs] = process.argv.slice(2);
const inner = createScriptedBackend({ respond: ["never"] });
const backend: Backend = {
  kind: inner.kind,
  model: inner.model,
  capabilities: inner.capabilities,
  generate() {
    process.stdout.write("calling\n");
    return new Promise(() => {});
  },
  close: () => inner.close(),
};
new RedisTaskWorker({
  url: url as string,
  prefix: prefix as string,
  resolve: createTaskResolver({ backend: () => backend }),
  lockDurationMs: Number(lockMs),
  stalledIntervalMs: Number(lockMs),
});
