// Waiting in integration tests for something another process does (a stream's commit, a worker's job): polls instead
// of sleeping a fixed time, so a test is as fast as the machine and fails with what it waited for.

/** Polls `probe` every `everyMs` until it returns a value other than undefined; throws naming `what` after `ms`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
