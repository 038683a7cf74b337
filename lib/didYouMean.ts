// A name that is not known, with the known name it is most likely a typo of: objects, fields, orgs.

/** Levenshtein distance, case-insensitive (API names are). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[t.length]!;
}

/** The closest known name, if it is close enough to be a typo (at most a third of the name's letters, and 3). */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d <= limit && (!best || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

/** "'Acount' (did you mean Account?)" */
export function describeUnknown(name: string, known: readonly string[]): string {
  const hint = suggestName(name, known);
  return hint ? `'${name}' (did you mean ${hint}?)` : `'${name}'`;
}
