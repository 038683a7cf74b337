// The emulator's records of one object as tests compare against them (hard-deleted records are gone).
import type { OrgStore, SfRecord } from '../../emulator/types.ts';

export function orgRecords(
  store: OrgStore,
  object: string,
  opts: { includeDeleted: boolean } = { includeDeleted: true },
): SfRecord[] {
  const snap = store.snapshot(object);
  const out: SfRecord[] = [];
  for (let i = 0; i < snap.size; i++) {
    const rec = snap.at(i);
    if (rec && (opts.includeDeleted || rec.IsDeleted !== true)) out.push(rec);
  }
  return out;
}
