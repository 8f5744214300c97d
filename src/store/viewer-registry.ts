import type { SqliteDatabase } from "./sqlite-database.js";

/**
 * Which `deliberate serve` processes run on a database, so the CLI can link a run it stored there to
 * the web viewer. A server adds itself when it starts listening and removes itself when it stops; a
 * row left by a server that died is ignored, since its process is gone.
 */
export function registerViewer(db: SqliteDatabase, url: string, pid: number = process.pid): void {
  db.prepare("INSERT OR REPLACE INTO viewers (url, pid, started_at) VALUES (?, ?, ?)").run(
    url,
    pid,
    Date.now(),
  );
}

export function unregisterViewer(db: SqliteDatabase, url: string): void {
  if (db.open) db.prepare("DELETE FROM viewers WHERE url = ?").run(url);
}

/** Whether a process is running (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The newest live server on this database (e.g. http://127.0.0.1:8080), if any. */
export function liveViewerUrl(db: SqliteDatabase): string | undefined {
  const rows = db
    .prepare<[], { url: string; pid: number }>("SELECT url, pid FROM viewers ORDER BY started_at DESC")
    .all();
  return rows.find((row) => isAlive(row.pid))?.url;
}

/** Where the viewer shows one run. */
export const runViewerUrl = (base: string, traceId: string): string =>
  `${base}/runs/${encodeURIComponent(traceId)}`;
