// Work slots (SFSYNC_CONCURRENCY): how many objects extract and load at once. An object gives its slot up while it only
// waits for Salesforce to run a Bulk job (queued or in progress, docs/salesforce.md#bulk-api-20-job-states), so the
// jobs of every object in flight run at the same time and the slots go to objects with bytes to load.

export interface Slots {
  acquire(): Promise<void>;
  release(): void;
}

/** Objects in flight (their jobs created up front) per work slot; each holds a pool connection and its lock. */
export const IN_FLIGHT_PER_SLOT = 2;

/** A FIFO counting semaphore: p-limit runs whole tasks, but here a task hands its slot back and queues again. */
export function createSlots(n: number): Slots {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    acquire() {
      if (free > 0) {
        free--;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/** Runs `fn` without holding the caller's slot; takes a slot again before returning, whatever `fn` did. */
export async function whileIdle<T>(slots: Slots | undefined, fn: () => Promise<T>): Promise<T> {
  if (!slots) return fn();
  slots.release();
  try {
    return await fn();
  } finally {
    await slots.acquire();
  }
}
