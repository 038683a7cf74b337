// How numbers read wherever a person sees them (summaries, progress, tables, terminal log lines): `200,000`.

const counts = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands grouped, e.g. `200,000`. */
export function formatCount(n: number): string {
  return counts.format(n);
}
