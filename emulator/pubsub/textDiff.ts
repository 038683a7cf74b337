// A long text area's update sent as a data difference (docs/salesforce.md#change-event-fields): Salesforce's
// "Sending Data Differences for Fields of Updated Records" and "Data Differences in Event Fields" in the Change Data
// Capture guide. The value is `--- \n+++ <SHA-256 of the whole new value, hex>\n` then unified diff hunks computed
// line by line, without context lines (`@@ -2,1 +2,1 @@`, `-old line`, `+new line`).
import { createHash } from 'node:crypto';

/** No diff for a value shorter than this (characters). */
export const DIFF_MIN_LENGTH = 1000;
/** The emulator's own bound on the line table of one diff: past it the whole value is sent, which is always allowed. */
const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

/** Line operations turning `a` into `b` (a longest common subsequence of lines). */
function lineOps(a: string[], b: string[]): Op[] | undefined {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  if ((n + 1) * (m + 1) > MAX_CELLS) return undefined;
  // lcs[i][j]: the longest common subsequence of a[start + i ..] and b[start + j ..] (the middle only).
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[start + i] === b[start + j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  let i = 0;
  let j = 0;
  // Removed lines before added ones, as the documented example has them.
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      ops.push({ kind: ' ', line: a[start + i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: '-', line: a[start + i++]! });
    else ops.push({ kind: '+', line: b[start + j++]! });
  }
  for (const line of a.slice(endA)) ops.push({ kind: ' ', line });
  return ops;
}

/** Zero-context hunks: `@@ -<old start>,<count> +<new start>,<count> @@` (a count of 0 starts at the line before). */
function hunks(ops: Op[]): string[] {
  const out: string[] = [];
  let oldLine = 0;
  let newLine = 0;
  for (let k = 0; k < ops.length; ) {
    if (ops[k]!.kind === ' ') {
      oldLine++;
      newLine++;
      k++;
      continue;
    }
    const body: string[] = [];
    let removed = 0;
    let added = 0;
    for (; k < ops.length && ops[k]!.kind !== ' '; k++) {
      const op = ops[k]!;
      body.push(`${op.kind}${op.line}`);
      if (op.kind === '-') removed++;
      else added++;
    }
    const from = removed ? oldLine + 1 : oldLine;
    const to = added ? newLine + 1 : newLine;
    out.push(`@@ -${from},${removed} +${to},${added} @@`, ...body);
    oldLine += removed;
    newLine += added;
  }
  return out;
}

/**
 * The diff Salesforce may send for `after` replacing `before`, or undefined where it sends the whole value: the new
 * value is under 1,000 characters, the lengths differ by more than 50%, more than 25% of the lines of both values
 * changed, or the diff is longer than the new value.
 */
export function textDiff(before: string, after: string): string | undefined {
  if (after.length < DIFF_MIN_LENGTH || before === after) return undefined;
  if (Math.abs(after.length - before.length) > before.length / 2) return undefined;
  // The diff algorithm breaks the value into lines at the line breaks found in it.
  const a = before.split(/\r?\n/);
  const b = after.split(/\r?\n/);
  const ops = lineOps(a, b);
  if (!ops) return undefined;
  const changed = ops.filter((o) => o.kind !== ' ').length;
  // No changed line: the values differ in their line breaks alone, which a line diff cannot carry.
  if (changed === 0 || changed > (a.length + b.length) / 4) return undefined;
  const hash = createHash('sha256').update(after, 'utf8').digest('hex');
  const diff = ['--- ', `+++ ${hash}`, ...hunks(ops)].join('\n');
  return diff.length > after.length ? undefined : diff;
}
