// House rules that keep the architecture honest: checked by reading the source, no I/O beyond the files.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const product = ['cli', 'lib', 'schemas', 'extractors', 'transforms', 'loaders', 'pipelines', 'migrations'].flatMap(sources);

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('source boundaries', () => {
  it('reads process.env only in lib/config.ts or as the argument of loadConfig at a command edge', () => {
    const offenders = product.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({ file, line: i + 1, text: line.trim() }))
        .filter((l) => l.text.includes('process.env') && l.file !== path.join('lib', 'config.ts'))
        .filter((l) => !/loadConfig\(process\.env\b/.test(l.text) && l.text !== '...process.env,'),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps extractors away from pg/loaders and loaders away from axios/extractors code', () => {
    const bad: string[] = [];
    for (const file of sources('extractors')) for (const i of importsOf(file)) if (i === 'pg' || i.includes('/loaders/')) bad.push(`${file} -> ${i}`);
    for (const file of sources('loaders')) {
      for (const i of importsOf(file)) if (i === 'axios' || (i.includes('/extractors/') && true)) bad.push(`${file} -> ${i}`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the emulator independent of the product, so a misreading of Salesforce cannot be mirrored', () => {
    const bad = sources('emulator').flatMap((file) => importsOf(file).filter((i) => /\/(extractors|loaders|pipelines)\//.test(i)).map((i) => `${file} -> ${i}`));
    expect(bad).toEqual([]);
  });
});
