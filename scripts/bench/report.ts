// The bench's results as a text table (stdout), Markdown and JSON (bench/results/, git-ignored).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Measurement {
  id: string;
  label: string;
  rows: number;
  /** CSV bytes the emulator served for this measurement (Bulk results); null when not applicable. */
  bytes: number | null;
  seconds: number;
  peakRssMb: number;
  note?: string;
}

export interface Check {
  target: string;
  measured: string;
  pass: boolean;
}

export interface BenchResult {
  startedAt: string;
  settings: Record<string, unknown>;
  measurements: Measurement[];
  checks: Check[];
}

const HEAD = ['', 'measurement', 'rows', 'MB', 'seconds', 'rows/s', 'peak RSS MB', 'rows/s vs (a)'];

function cells(m: Measurement, base: Measurement | undefined): string[] {
  const rate = m.seconds > 0 ? m.rows / m.seconds : 0;
  const baseRate = base && base.seconds > 0 ? base.rows / base.seconds : 0;
  return [
    `(${m.id})`,
    m.label,
    m.rows.toLocaleString('en-US'),
    m.bytes === null ? '-' : (m.bytes / 1_048_576).toFixed(1),
    m.seconds.toFixed(1),
    Math.round(rate).toLocaleString('en-US'),
    m.peakRssMb.toFixed(0),
    baseRate > 0 ? `${(rate / baseRate).toFixed(2)}x` : '-',
  ];
}

function grid(r: BenchResult): string[][] {
  const base = r.measurements.find((m) => m.id === 'a');
  return r.measurements.map((m) => cells(m, base));
}

export function textTable(r: BenchResult): string {
  const rows = [HEAD, ...grid(r)];
  const widths = HEAD.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const notes = r.measurements.filter((m) => m.note).map((m) => `(${m.id}) ${m.note}`);
  const checks = r.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'}  ${c.target}: ${c.measured}`);
  return [line(rows[0]!), ...rows.slice(1).map(line), '', ...notes, '', ...checks].join('\n') + '\n';
}

export function markdown(r: BenchResult): string {
  const row = (cs: string[]) => `| ${cs.join(' | ')} |`;
  return [
    `# sfsync bench ${r.startedAt}`,
    '',
    '```json',
    JSON.stringify(r.settings, null, 2),
    '```',
    '',
    row(HEAD),
    row(HEAD.map((_, i) => (i <= 1 ? '---' : '---:'))),
    ...grid(r).map(row),
    '',
    ...r.measurements.filter((m) => m.note).map((m) => `- (${m.id}) ${m.note}`),
    '',
    '## Targets',
    '',
    ...r.checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.target}: ${c.measured}`),
    '',
  ].join('\n');
}

/** Writes bench-<accounts>-<stamp>.{json,md} and returns their paths. */
export async function writeResults(dir: string, r: BenchResult): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const base = path.join(dir, `bench-${String(r.settings.accounts)}-${stamp}`);
  await writeFile(`${base}.json`, JSON.stringify(r, null, 2) + '\n');
  await writeFile(`${base}.md`, markdown(r));
  return [`${base}.json`, `${base}.md`];
}
