// Test databases: `const db = useTestDatabase()` in a test file gives db.url after beforeAll, one database for the
// file; `useTestDatabase('each')` gives every test a fresh, empty database of its own (db.url inside the test).
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.ts';

export function useTestDatabase(per: 'file' | 'each' = 'file'): { readonly url: string } {
  let db: TestDatabase | undefined;
  const create = async () => {
    db = await createTestDatabase(inject('pgAdminUrl'));
  };
  const drop = async () => {
    await db?.drop();
    db = undefined;
  };
  if (per === 'each') {
    beforeEach(create);
    afterEach(drop);
  } else {
    beforeAll(create);
    afterAll(drop);
  }
  return {
    get url() {
      if (!db) throw new Error('useTestDatabase: database not created yet (use it inside a test or hook)');
      return db.url;
    },
  };
}
