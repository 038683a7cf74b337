// The long-running commands (schedule, worker) stop on the first SIGINT or SIGTERM, and finish what runs first.

/** Resolves with the first SIGINT or SIGTERM after the call; the handlers are removed then. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on).off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on).on('SIGTERM', on);
  });
}
