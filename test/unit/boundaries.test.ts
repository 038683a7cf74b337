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

const productDirs = ['cli', 'lib', 'schemas', 'extractors', 'transforms', 'loaders', 'pipelines', 'migrations'];
const product = productDirs.flatMap(sources);

/** Every .ts and .js file under the folders with code, tests and scripts (none of them holds generated files). */
function codeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : codeFiles(p);
    return /\.[jt]s$/.test(p) ? [p] : [];
  });
}

const codeDirs = [...productDirs, 'emulator', 'scripts', 'test', 'bin'];

/** biome's lineWidth; it does not break strings, regexes or comments, so those are split by hand. */
const MAX_LINE = 120;

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

describe('source boundaries', () => {
  it('reads the environment in cli/main.ts alone; every other file gets typed settings', () => {
    const readers = product.filter((file) =>
      /\bprocess\.env\b/.test(readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')),
    );
    expect(readers).toEqual([path.join('cli', 'main.ts')]);
  });

  it('keeps extractors away from pg, loaders and transforms, and loaders away from axios and extractors', () => {
    const bad: string[] = [];
    for (const file of sources('extractors'))
      for (const i of importsOf(file))
        if (i === 'pg' || i.includes('/loaders/') || i.includes('/transforms/')) bad.push(`${file} -> ${i}`);
    for (const file of sources('loaders')) {
      for (const i of importsOf(file)) if (i === 'axios' || i.includes('/extractors/')) bad.push(`${file} -> ${i}`);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the emulator independent of the product, so a misreading of Salesforce cannot be mirrored', () => {
    const bad = sources('emulator').flatMap((file) =>
      importsOf(file)
        .filter((i) => /\/(extractors|loaders|pipelines)\//.test(i))
        .map((i) => `${file} -> ${i}`),
    );
    expect(bad).toEqual([]);
  });
});

describe('source layout', () => {
  it(`keeps every line of code, tests and scripts within ${MAX_LINE} characters`, () => {
    const long = codeDirs.flatMap(codeFiles).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split(/\r?\n/)
        .flatMap((line, i) => {
          const width = [...line].length;
          return width > MAX_LINE ? [`${file}:${i + 1} (${width})`] : [];
        }),
    );
    expect(long).toEqual([]);
  });
});
