// A strict parser of the Prometheus text exposition format (version 0.0.4): every line must be a HELP, a TYPE or a
// sample of a declared family, else it throws, naming the line.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name whose labels include `labels`; undefined when none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\["\\\\n])*)"`;
// Prometheus reads values with Go's ParseFloat, which takes Inf and NaN in any case (prom-client writes `Nan`).
const VALUE = '([+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn])';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? ${VALUE}(?: -?\\d+)?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheusText(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}: ${JSON.stringify(line)}`;
      if (line.startsWith('# HELP ')) {
        if (!new RegExp(`^# HELP ${NAME}( .*)?$`).test(line)) throw new Error(`bad HELP, ${where}`);
        return;
      }
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) {
        if (!new RegExp(`^${NAME}$`).test(type[1]!) || !TYPES.has(type[2]!)) throw new Error(`bad TYPE, ${where}`);
        if (types.has(type[1]!)) throw new Error(`second TYPE for ${type[1]}, ${where}`);
        types.set(type[1]!, type[2]!);
        return;
      }
      // The format ignores empty lines (prom-client puts one between families); any other comment is an error here.
      if (line === '') return;
      if (line.startsWith('#')) throw new Error(`unexpected comment, ${where}`);
      const m = SAMPLE.exec(line);
      if (!m) throw new Error(`not a sample, ${where}`);
      const name = m[1]!;
      const family = [...types].find(([f, t]) => (SUFFIXES[t] ?? ['']).some((s) => name === f + s));
      if (!family) throw new Error(`sample of an undeclared family, ${where}`);
      const labels: Record<string, string> = {};
      for (const l of (m[2] ?? '').matchAll(new RegExp(LABEL, 'g'))) {
        if (l[1]! in labels) throw new Error(`label ${l[1]} twice, ${where}`);
        labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
      const raw = m.at(-1)!;
      const special = raw.replace(/^[+-]/, '').toLowerCase();
      const value =
        special === 'inf' ? (raw.startsWith('-') ? -Infinity : Infinity) : special === 'nan' ? Number.NaN : Number(raw);
      samples.push({ name, labels, value });
    });
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}
