// The configured object names against the org's object list (describeGlobal), before any object is worked on: a typo in
// --objects stops the command at once with a suggestion; a name from the config file (or the default set) that the
// org no longer has, or that the user cannot read, is skipped with a warning so the other objects still run.
import type { Config } from '../../lib/config.ts';
import { ConfigError, DataError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { SalesforceHttp } from '../../extractors/client/salesforceHttp.ts';
import type { RunContext } from './runContext.ts';
import { checkColumnOptions } from './columnSelection.ts';
import { checkObjectFilters } from '../../extractors/soqlFilter.ts';
import { describeUnknown, suggestName } from '../../lib/didYouMean.ts';

export interface GlobalObject {
  name: string;
  queryable: boolean;
  replicateable: boolean;
}

/**
 * docs/salesforce.md#describeglobal: every object the running user can see, with its flags. An object the user has
 * no Read access to is left out, as if the org did not have it.
 */
export async function listOrgObjects(sf: SalesforceHttp): Promise<GlobalObject[]> {
  const body = await sf.get<{ sobjects?: unknown }>('sobjects');
  if (!Array.isArray(body?.sobjects)) throw new DataError('describeGlobal (sobjects) did not list sobjects[]');
  return (body.sobjects as Record<string, unknown>[])
    .filter((o) => typeof o?.name === 'string')
    .map((o) => ({
      name: o.name as string,
      queryable: o.queryable !== false,
      replicateable: o.replicateable !== false,
    }));
}

/**
 * The configured objects the org has. Unknown `--objects` names: ConfigError (exit 2) naming each, with a suggestion;
 * unknown names from the config file or the default set: a warning each, and they are left out.
 */
export function resolveObjectNames(config: Config, orgObjects: readonly GlobalObject[], log: Logger): Config {
  const known = new Map(orgObjects.map((o) => [o.name.toLowerCase(), o.name]));
  const names = orgObjects.map((o) => o.name);
  const missing = config.objects.filter((o) => !known.has(o.name.toLowerCase()));
  if (missing.length === 0) return config;
  const what = missing.map((o) => describeUnknown(o.name, names)).join(', ');
  if (config.objectsFrom === 'flag')
    throw new ConfigError(
      `--objects: ${what} ${missing.length === 1 ? 'is' : 'are'} not an object this org has for the integration ` +
        "user (no such object, or the user's profile lacks Read on it); nothing was run",
    );
  for (const o of missing)
    log.warn(
      { object: o.name, suggestion: suggestName(o.name, names) },
      `${describeUnknown(o.name, names)} is not in the org (or the integration user cannot read it): skipped`,
    );
  const objects = config.objects.filter((o) => known.has(o.name.toLowerCase()));
  return Object.freeze({ ...config, objects });
}

/**
 * resolveObjectNames with the org's list read through the run's client: one describeGlobal call. The objects' column
 * options (config columns) are checked against their describes too, so a misspelt field also stops the command.
 */
export async function withKnownObjects(ctx: RunContext): Promise<RunContext> {
  const config = resolveObjectNames(ctx.config, await listOrgObjects(ctx.sf), ctx.log);
  const known = config === ctx.config ? ctx : { ...ctx, config };
  await checkColumnOptions(known);
  // The objects' filters (config where) too: against their describes and those of the parents they name.
  await checkObjectFilters(known.sf, known.config.objects);
  return known;
}
