/**
 * Worker-thread entry of BackgroundTraceWriter: its own connection to the database file (WAL lets it
 * write while the main thread reads), appending each batch it is sent in one transaction.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./sqlite-database.js";
import { TraceStore } from "./trace-store.js";
import type { TraceWorkerReply, TraceWorkerRequest } from "./trace-write-protocol.js";

const port = parentPort;
if (!port) throw new Error("trace-write-worker must run in a worker thread");
const { path } = workerData as { path: string };
const db = openDatabase(path);
const store = new TraceStore(db);
const reply = (message: TraceWorkerReply) => port.postMessage(message);

port.on("message", (message: TraceWorkerRequest) => {
  if (message.type === "append") {
    try {
      store.appendMany(message.events);
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) });
    }
  } else {
    db.close();
    reply({ type: "closed" });
    port.close();
  }
});
