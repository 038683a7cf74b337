// readSecret: a secret the config file names, never holds: {env: NAME} from the environment cli/main.ts hands on, or
// {file: path} relative to the config file. Messages name the reference, never the value.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type SecretRef = { env: string } | { file: string };

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  /** Where a relative {file} path starts: the config file's directory. */
  dir: string;
}

/**
 * The secret's text; '' and a problem pushed when it cannot be read. A file's surrounding whitespace (the newline an
 * editor or `echo` adds) is not part of the secret.
 */
export function readSecret(ref: SecretRef, what: string, from: SecretSource, problems: string[]): string {
  if ('env' in ref) {
    const value = from.env[ref.env];
    if (value) return value;
    problems.push(`${what}: environment variable ${ref.env} is not set`);
    return '';
  }
  const file = path.resolve(from.dir, ref.file);
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (text) return text;
    problems.push(`${what}: ${file} is empty`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${what}: cannot read ${file} (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`);
  }
  return '';
}
