// JSON whose numbers keep every digit (docs/salesforce.md#rest-record-json: currency and double values can carry more
// digits than a double holds). Every number token outside a string is wrapped in quotes, then JSON.parse runs: numbers
// come back as their exact source text, which is all the loader needs (it writes text for Postgres to parse). Chosen
// over a lossless JSON library for speed (docs/benchmarks.md#exact-number-json-parsing).
import { DataError } from '../../lib/errors.ts';

/**
 * One match = the text up to the next number token outside a string, then that token. Sticky (y), so every
 * match starts where the last ended and a string is always entered at its opening quote; matching stops after
 * the last number. In JSON, a digit or '-' outside a string can only start a number. The token follows JSON's
 * number grammar exactly, so a malformed number (01, 1., 1e) leaves quoted pieces side by side and JSON.parse
 * still throws.
 */
const UP_TO_NUMBER = /((?:"[^"\\]*(?:\\.[^"\\]*)*"|[^"\d-])*)(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/gy;

/** Parses JSON text; every number comes back as a string holding its exact source text. Throws on invalid JSON. */
export function parseJsonNumbersAsText(text: string): unknown {
  try {
    return JSON.parse(text.replace(UP_TO_NUMBER, '$1"$2"'));
  } catch (err) {
    // The position in that error counts the quotes added around numbers: the source text's own error names the
    // place in what the server sent. Only on this failure path does the text get parsed twice.
    JSON.parse(text);
    throw err;
  }
}

/**
 * Nested JSON values (fields of type json, complexvalue, anyType: docs/salesforce.md#field-types) must come back as
 * JSON text with their numbers exact, so a number has to stay told apart from a string of the same digits. Each number
 * becomes a string led by a marker: a private-use character that appears nowhere in the text, neither raw nor as a
 * `\u` escape, so no string Salesforce sent can start with it.
 */
export function numberMarkerFor(text: string): string {
  // Escapes of private-use characters are rare: one scan finds them all (a `\\uE000`, which is no escape, only costs
  // that candidate).
  const escaped = new Set<number>();
  for (const m of text.matchAll(/\\u([eEfF][0-9a-fA-F]{3})/g)) escaped.add(Number.parseInt(m[1]!, 16));
  for (let code = 0xe000; code <= 0xf8ff; code++) {
    const marker = String.fromCharCode(code);
    if (!escaped.has(code) && !text.includes(marker)) return marker;
  }
  throw new DataError('the text holds every private-use character; no number marker is free');
}

/** As parseJsonNumbersAsText, with every number's text led by `marker` (numberMarkerFor). */
export function parseJsonNumbersMarked(text: string, marker: string): unknown {
  try {
    return JSON.parse(text.replace(UP_TO_NUMBER, `$1"${marker}$2"`));
  } catch (err) {
    JSON.parse(text);
    throw err;
  }
}

/** A value parsed by parseJsonNumbersMarked back to JSON text: numbers verbatim, strings escaped, keys as parsed. */
export function markedJsonText(value: unknown, marker: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return value.startsWith(marker) ? value.slice(marker.length) : JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map((v) => markedJsonText(v, marker)).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${JSON.stringify(k)}:${markedJsonText(v, marker)}`,
    );
    return `{${members.join(',')}}`;
  }
  throw new DataError(`not a parsed JSON value: ${typeof value}`);
}
