import { readFileSync, readlinkSync } from "node:fs";

/*
 * CPU time of one thread of this process, read from Linux's /proc. Node 20 has no per-thread CPU
 * clock (process.threadCpuUsage came in Node 23), and a worker stuck inside a native built-in cannot
 * measure itself, so the worker names its thread once and the parent reads that thread's time.
 */

/** /proc reports CPU time in USER_HZ ticks, which Linux fixes at 100 per second for user space. */
const MS_PER_TICK = 10;

/** utime + stime from a /proc stat line, in milliseconds; undefined when the line is not one. */
function cpuMsFromStat(stat: string): number | undefined {
  // The thread's name, in parentheses, may itself hold spaces and parentheses; the fields after the
  // last ")" are fixed: state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) * MS_PER_TICK;
}

/** The calling thread's id and CPU time so far; undefined where /proc/thread-self is missing (not Linux). */
export function currentThreadCpu(): { threadId: number; cpuMs: number } | undefined {
  try {
    // Synchronous fs calls run on the calling thread, so "thread-self" is this thread.
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
    const cpuMs = cpuMsFromStat(readFileSync("/proc/thread-self/stat", "utf8"));
    if (!Number.isInteger(threadId) || cpuMs === undefined) return undefined;
    return { threadId, cpuMs };
  } catch {
    return undefined;
  }
}

/** CPU time of a thread of this process; undefined once it has exited. */
export function threadCpuMs(threadId: number): number | undefined {
  try {
    return cpuMsFromStat(readFileSync(`/proc/self/task/${threadId}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** A worker thread as it names itself when it starts: its id and CPU time then (undefined off Linux). */
export type ThreadCpuStart = { threadId: number; cpuMs: number } | undefined;

/**
 * Watches a sandbox thread's CPU time from the parent, every `intervalMs`: `onLimit` once it reaches
 * `limitMs` (ask the interpreter to stop itself), `onGraceSpent` once it goes `graceMs` past that (the
 * interpreter is stuck in native code; terminate it). Where the thread's CPU time cannot be read, wall
 * time since the watch began stands in. Returns the function that stops watching.
 */
export function watchThreadCpu(
  start: ThreadCpuStart,
  options: {
    limitMs: number;
    graceMs: number;
    intervalMs: number;
    onLimit: () => void;
    onGraceSpent: () => void;
  },
): () => void {
  const startedAt = Date.now();
  let lastCpuMs = start?.cpuMs ?? 0;
  const usedMs = (): number => {
    if (start === undefined) return Date.now() - startedAt;
    lastCpuMs = threadCpuMs(start.threadId) ?? lastCpuMs;
    return lastCpuMs - start.cpuMs;
  };
  let signalled = false;
  const timer = setInterval(() => {
    const used = usedMs();
    if (used >= options.limitMs && !signalled) {
      signalled = true;
      options.onLimit();
    }
    if (used >= options.limitMs + options.graceMs) options.onGraceSpent();
  }, options.intervalMs);
  return () => clearInterval(timer);
}
