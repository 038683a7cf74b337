// Plain-text tables for terminal output: padded columns, a dashed rule under the header, no trailing spaces.

export interface TableFit {
  /** The widest a line may be, e.g. the terminal's columns. */
  width: number;
  /** The column cut (its cells end in `…`) when the table is wider than `width`; the others keep their width. */
  shrink: number;
  /** Columns left out, in this order, while the table is still too wide with `shrink` cut to its header. */
  optional?: readonly number[];
}

const cut = (cell: string, width: number) => (cell.length <= width ? cell : `${cell.slice(0, width - 1)}…`);

export function formatTextTable(
  header: readonly string[],
  body: readonly (readonly string[])[],
  fit?: TableFit,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const shown = new Set(header.keys());
  if (fit) {
    const total = () => [...shown].reduce((sum, i) => sum + (widths[i] ?? 0), 0) + 2 * (shown.size - 1);
    const dropping = [...(fit.optional ?? [])];
    while (total() > fit.width) {
      const least = header[fit.shrink]?.length ?? 1;
      const shrunk = widths[fit.shrink] ?? least;
      if (shrunk > least) widths[fit.shrink] = Math.max(least, shrunk - (total() - fit.width));
      else {
        const next = dropping.shift();
        if (next === undefined) break;
        shown.delete(next);
      }
    }
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (shown.has(i) ? cut(c, widths[i] ?? 0).padEnd(widths[i] ?? 0) : undefined))
      .filter((c) => c !== undefined)
      .join('  ')
      .trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n`;
}

/** A duration for a table cell: `12.3 s`; empty when unknown. */
export function formatSeconds(ms: number | null): string {
  return ms === null ? '' : `${(ms / 1000).toFixed(1)} s`;
}

/** An instant relative to now, in its largest whole unit: `3 min ago`, `in 5 h`, `45 s ago`; `-` when unknown. */
export function formatRelativeTime(at: string | null | undefined, now: Date): string {
  if (!at) return '-';
  const seconds = Math.round((Date.parse(at) - now.getTime()) / 1000);
  const a = Math.abs(seconds);
  if (a === 0) return 'now';
  const span =
    a < 60
      ? `${a} s`
      : a < 3_600
        ? `${Math.floor(a / 60)} min`
        : a < 2 * 86_400
          ? `${Math.floor(a / 3_600)} h`
          : `${Math.floor(a / 86_400)} d`;
  return seconds < 0 ? `${span} ago` : `in ${span}`;
}

/** The width terminal tables fit: the terminal's, else 100 (a pipe, a file). */
export function terminalWidth(stream: { columns?: number } = process.stdout): number {
  return stream.columns && stream.columns > 0 ? stream.columns : 100;
}
