/**
 * Calls `onStop` on the first SIGINT (Ctrl-C) or SIGTERM (a `kill`), then stops listening, so a second
 * signal ends the process as usual. Returns the function that stops listening without a signal.
 */
export function onStopSignal(onStop: (signal: NodeJS.Signals) => void): () => void {
  const stopListening = (): void => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  };
  const stop = (signal: NodeJS.Signals): void => {
    stopListening();
    onStop(signal);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return stopListening;
}
