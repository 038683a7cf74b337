// PageDownload: a page downloading ahead of its turn holds at most its byte budget, resumes as the reader drains it,
// and keeps its failure for the reader (after the bytes that preceded it).
import { describe, expect, it } from 'vitest';
import { PageDownload } from '../../extractors/bulk/pageDownload.ts';

/** A source of n chunks of `size` bytes that counts how many were pulled. */
function source(n: number, size: number, failAt?: number) {
  const state = { pulled: 0, returned: false };
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new Error(`cut at ${i}`);
        state.pulled++;
        yield Buffer.alloc(size, i % 256);
      }
    } finally {
      state.returned = true;
    }
  }
  return { gen: gen(), state };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('PageDownload', () => {
  it('stops pulling once its budget is queued, and resumes as the reader drains it', async () => {
    const { gen, state } = source(100, 1000);
    const d = new PageDownload(gen, 4500);
    await settle();
    expect(state.pulled).toBe(5);
    expect(d.buffered).toBe(5000);
    // Each chunk taken makes room for one more: never more than the budget plus one chunk is held.
    const chunks = d.chunks();
    await chunks.next();
    await settle();
    expect(state.pulled).toBe(6);
    await chunks.next();
    await settle();
    expect(state.pulled).toBe(7);
    expect(d.buffered).toBe(5000);
    let n = 2;
    for await (const c of chunks) {
      expect(c[0]).toBe(n % 256);
      n++;
    }
    expect(n).toBe(100);
  });

  it('hands over every byte before the failure, then the failure', async () => {
    const { gen } = source(10, 10, 6);
    const d = new PageDownload(gen, Number.POSITIVE_INFINITY);
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const c of d.chunks()) got.push(c[0]!);
      })(),
    ).rejects.toThrow('cut at 6');
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('returns its source when cancelled while waiting for room', async () => {
    const { gen, state } = source(100, 1000);
    const d = new PageDownload(gen, 2000);
    await settle();
    d.cancel();
    await settle();
    expect(state.returned).toBe(true);
    expect(state.pulled).toBe(2);
    expect(d.buffered).toBe(0);
  });
});
