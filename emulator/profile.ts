// Org profiles: which schema the emulated org has and how its records are generated. `demo` is the small org of
// seed.ts/schema.ts; `enterprise` adds the traits of large production orgs (enterprise.ts).
import { enterpriseSchema, enterpriseSeed } from './enterprise.ts';
import { seedSchema } from './schema.ts';
import type { SeedExtension } from './seed.ts';
import type { ObjectDef } from './types.ts';

export type ProfileName = 'demo' | 'enterprise';
export const PROFILES: readonly ProfileName[] = ['demo', 'enterprise'];

export interface Profile {
  name: ProfileName;
  /** A fresh copy of the profile's schema. */
  schema(): ObjectDef[];
  seed?: SeedExtension;
}

export function isProfileName(name: string): name is ProfileName {
  return (PROFILES as readonly string[]).includes(name);
}

export function profileOf(name: string = 'demo'): Profile {
  if (!isProfileName(name)) throw new Error(`Unknown emulator profile '${name}' (expected ${PROFILES.join(' or ')})`);
  if (name === 'enterprise') return { name, schema: () => enterpriseSchema(seedSchema()), seed: enterpriseSeed };
  return { name, schema: seedSchema };
}
