// Per-test-file database: `const db = useTestDatabase()` in a describe block gives db.url after beforeAll.
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.ts';

export function useTestDatabase(): { readonly url: string } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(inject('pgAdminUrl'));
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get url() {
      if (!db) throw new Error('useTestDatabase: database not created yet (use it inside a test or hook)');
      return db.url;
    },
  };
}
