// JSON whose numbers keep every digit (docs/salesforce.md#rest-record-json: currency and double values can carry more
// digits than a double holds). Every number token outside a string is wrapped in quotes, then JSON.parse runs: numbers
// come back as their exact source text, which is all the loader needs (it writes text for Postgres to parse). Chosen
// over a lossless JSON library for speed (docs/benchmarks.md#exact-number-json-parsing).

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
