// Object read access per user: the admin API can take an object away from one user (or from every user), as removing
// Read from their profile and permission sets would. Salesforce then treats the object as absent for that user:
// describeGlobal leaves it out, sObject describe and the other /sobjects/X resources answer 404 NOT_FOUND, SOQL
// naming it (FROM or a relationship path) answers 400 INVALID_TYPE / INVALID_FIELD like an unknown object, and a
// Bulk job on it is refused at creation (docs/salesforce.md#error-codes, #sobject-describe).
import type { OrgStore } from './types.ts';

export interface ObjectAccess {
  /** Hides `object` from `username` (case-insensitive), or from every user when username is omitted. */
  deny(object: string, username?: string): void;
  /** Undoes deny() for that object (and user); with no arguments, every denial. */
  restore(object?: string, username?: string): void;
  list(): { object: string; username: string | null }[];
  /** The org as this user sees it: the store itself while nothing is hidden from them. */
  viewFor(store: OrgStore, username: string): OrgStore;
}

const EVERYONE = '*';

/** The store with some objects removed from describe and name resolution; records and snapshots are shared. */
function restricted(store: OrgStore, hidden: ReadonlySet<string>): OrgStore {
  return {
    ...store,
    objects: () => store.objects().filter((d) => !hidden.has(d.name.toLowerCase())),
    object: (name) => (hidden.has(name.toLowerCase()) ? undefined : store.object(name)),
  };
}

export function createObjectAccess(): ObjectAccess {
  /** username (lower case) or '*' -> hidden object names (lower case). */
  const denied = new Map<string, Set<string>>();
  /** Views are cached per user until the denials change, so per-view caches (REST handlers) are reused. */
  let views = new Map<string, OrgStore>();
  const changed = () => {
    views = new Map();
  };
  return {
    deny(object, username) {
      const who = username?.toLowerCase() ?? EVERYONE;
      const set = denied.get(who) ?? new Set<string>();
      set.add(object.toLowerCase());
      denied.set(who, set);
      changed();
    },
    restore(object, username) {
      if (object === undefined) denied.clear();
      else if (username === undefined) for (const set of denied.values()) set.delete(object.toLowerCase());
      else denied.get(username.toLowerCase())?.delete(object.toLowerCase());
      changed();
    },
    list() {
      const out: { object: string; username: string | null }[] = [];
      for (const [who, set] of denied)
        for (const object of set) out.push({ object, username: who === EVERYONE ? null : who });
      return out;
    },
    viewFor(store, username) {
      const who = username.toLowerCase();
      const hidden = new Set([...(denied.get(EVERYONE) ?? []), ...(denied.get(who) ?? [])]);
      if (hidden.size === 0) return store;
      let view = views.get(who);
      if (!view) {
        view = restricted(store, hidden);
        views.set(who, view);
      }
      return view;
    },
  };
}
