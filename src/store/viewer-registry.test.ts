import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type SqliteDatabase } from "./sqlite-database.js";
import { liveViewerUrl, registerViewer, runViewerUrl, unregisterViewer } from "./viewer-registry.js";

describe("the viewer registry", () => {
  let db: SqliteDatabase;
  beforeEach(() => {
    db = openDatabase(":memory:");
  });
  afterEach(() => db.close());

  it("names the newest server whose process is alive, and forgets one that stopped", () => {
    expect(liveViewerUrl(db)).toBeUndefined();
    // A process that has exited: its pid is free (and not reused this soon).
    const gone = spawnSync(process.execPath, ["-e", ""]).pid as number;
    registerViewer(db, "http://127.0.0.1:8080", process.pid);
    registerViewer(db, "http://127.0.0.1:9090", gone);
    expect(liveViewerUrl(db)).toBe("http://127.0.0.1:8080");
    unregisterViewer(db, "http://127.0.0.1:8080");
    expect(liveViewerUrl(db)).toBeUndefined();
    expect(runViewerUrl("http://127.0.0.1:8080", "task_01")).toBe("http://127.0.0.1:8080/runs/task_01");
  });
});
