// README.md's error table, rendered from lib/errorActions.ts. `npm run docs:errors` rewrites the block between the
// markers; test/unit/errorActions.test.ts fails when README.md and the table differ.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ACTIONS,
  ERROR_TABLE,
  EXIT_CODES,
  type ErrorRow,
  LOCAL_ERRORS,
  type Match,
  STAGES,
} from '../../lib/errorActions.ts';

export const START = '<!-- error-table:start -->';
export const END = '<!-- error-table:end -->';
export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** A code span that survives a table cell (GFM splits cells on `|`, even inside backticks, unless escaped). */
const code = (text: string) => `\`${text.replaceAll('|', '\\|')}\``;
const codes = (values: readonly string[]) => values.map(code).join(', ');

function when(m: Match): string {
  const where = m.at === undefined ? '' : `, ${STAGES[m.at]}`;
  switch (m.kind) {
    case 'salesforce': {
      const parts = [
        ...(m.status ? [`HTTP ${m.status.join(', ')}`] : []),
        ...(m.errorCode ? [codes(m.errorCode)] : []),
        ...(m.message ? [`with a message matching ${code(String(m.message))}`] : []),
      ];
      const what = parts.length > 0 ? parts.join(' ') : 'any other answer';
      return `Salesforce: ${what}${where}`;
    }
    case 'network':
      return `No HTTP answer: ${codes(m.code)}${m.message ? ` with message ${code(String(m.message))}` : ''}${where}`;
    case 'bulk-job':
      return `Bulk job ended ${m.state ? m.state.map(code).join(', ') : 'in any other state'}${where}`;
    case 'pubsub': {
      const parts = [...(m.status ? [codes(m.status)] : []), ...(m.errorCode ? [codes(m.errorCode)] : [])];
      return `Pub/Sub API: ${parts.length > 0 ? parts.join(' ') : 'any other failure'}${where}`;
    }
    case 'postgres': {
      if (!m.sqlstate) return `PostgreSQL: any other SQLSTATE${where}`;
      const classes = m.sqlstate.every((s) => s.length === 2);
      return `PostgreSQL: SQLSTATE ${classes ? 'class ' : ''}${codes(m.sqlstate)}${where}`;
    }
    case 'any':
      return `Anything else${where}`;
    default:
      return `${code(LOCAL_ERRORS[m.kind])}${where}`;
  }
}

function row(r: ErrorRow, n: number): string {
  const why = r.see ? `${r.why} ([more](docs/salesforce.md#${r.see}))` : r.why;
  const exit = 'exit' in r ? String(r.exit) : '-';
  return `| ${n} | ${when(r.when)} | **${r.action}** | ${why} | ${exit} |`;
}

/** The Markdown between the markers (markers excluded). */
export function renderErrorTable(): string {
  const actions = Object.entries(ACTIONS).map(([name, text]) => `- **${name}**: ${text}.`);
  const exits = Object.entries(EXIT_CODES).map(([n, text]) => `- \`${n}\` ${text}.`);
  return [
    '<!-- Generated from lib/errorActions.ts by `npm run docs:errors`; edit the table there. -->',
    '',
    '| # | When | Action | Why | Exit code |',
    '|---|---|---|---|---|',
    ...ERROR_TABLE.map((r, i) => row(r, i + 1)),
    '',
    'Actions:',
    '',
    ...actions,
    '',
    'Exit codes:',
    '',
    ...exits,
  ].join('\n');
}

/** `readme` with its block replaced by `block`; throws when the markers are missing. */
export function withErrorTable(readme: string, block: string = renderErrorTable()): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: no ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${block}\n${readme.slice(end)}`;
}

/** The block README.md holds now (markers excluded). */
export function readmeErrorTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: no ${START} ... ${END} block`);
  return readme
    .slice(start + START.length, end)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const before = readFileSync(README, 'utf8');
  const after = withErrorTable(before);
  if (after !== before) writeFileSync(README, after);
  console.log(after === before ? 'README.md error table is up to date' : 'README.md error table rewritten');
}
