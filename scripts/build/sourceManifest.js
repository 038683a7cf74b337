// The fingerprint of the TypeScript sources: every .ts file's path, size and mtime, and the package files'. The build
// stores it next to the bundle; the binary runs the bundle only when the fingerprint still matches, so an edited,
// checked-out or restored source tree never runs stale compiled code (it falls back to tsx, slower but current).
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = path.join(ROOT, 'dist');
export const MANIFEST = path.join(DIST, 'sources.json');
/** The folders the CLI's code can import from (cli/main.ts's graph, commands loaded lazily included). */
const SOURCE_DIRS = [
  'cli',
  'lib',
  'schemas',
  'extractors',
  'transforms',
  'loaders',
  'pipelines',
  'migrations',
  'emulator',
];

/** One line per source file, sorted: "path size mtimeMs". */
export function sourceFingerprint() {
  const lines = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts')) {
        const st = statSync(path.join(ROOT, rel));
        lines.push(`${rel} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  // The bundle holds most packages too: a changed lock file (an upgrade) also means rebuild.
  for (const file of ['package.json', 'package-lock.json']) {
    const st = statSync(path.join(ROOT, file), { throwIfNoEntry: false });
    if (st) lines.push(`${file} ${st.size} ${st.mtimeMs}`);
  }
  return lines.sort().join('\n');
}
