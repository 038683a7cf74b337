// eachOrg: a command's work for every org chosen, one org after the other. An org that fails (login refused, its
// budget spent, a schema holding another org) does not stop the next one; SIGINT/SIGTERM does, once the org in flight
// has rolled back. orgsFailure: the one error such a command ends with, naming the org.
import { type Config, DEFAULT_ORG } from '../lib/config.ts';
import { InterruptedError, oneLine } from '../lib/errors.ts';

export interface OrgOutcome<T> {
  config: Config;
  /** What the org's work returned; absent when it threw. */
  result?: T;
  /** Why the org's work stopped as a whole (thrown, or InterruptedError when a signal came before it started). */
  error?: unknown;
}

export const orgOf = (config: Config): string => config.org ?? DEFAULT_ORG;

export async function eachOrg<T>(
  configs: readonly Config[],
  work: (config: Config) => Promise<T>,
): Promise<OrgOutcome<T>[]> {
  let signal: NodeJS.Signals | undefined;
  const stop = (sig: NodeJS.Signals) => {
    signal = sig;
  };
  // The run in flight gets the signal too (pipelines/runtime/runContext.ts) and rolls back.
  process.on('SIGINT', stop).on('SIGTERM', stop);
  try {
    const outcomes: OrgOutcome<T>[] = [];
    for (const config of configs) {
      if (signal) {
        outcomes.push({ config, error: new InterruptedError(`interrupted by ${signal} before it started`) });
        continue;
      }
      try {
        outcomes.push({ config, result: await work(config) });
      } catch (err) {
        outcomes.push({ config, error: err });
      }
    }
    return outcomes;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

/**
 * The first failed org's error, its message led by the org (its kind, and so its exit code, kept), naming the other
 * orgs that failed; undefined when every org succeeded.
 */
export function orgsFailure(failures: readonly { org: string; error: unknown }[]): Error | undefined {
  const [first, ...others] = failures;
  if (!first) return undefined;
  const more = others.length > 0 ? ` (also failed: ${others.map((f) => `org ${f.org}`).join(', ')})` : '';
  const err = first.error instanceof Error ? first.error : new Error(String(first.error));
  err.message = `org ${first.org}: ${oneLine(err)}${more}`;
  return err;
}
