// Starts (or chooses) one PostgreSQL for the whole integration run and hands its URL to the test files.
import type { TestProject } from 'vitest/node';
import { resolvePostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await resolvePostgres();
  project.provide('pgAdminUrl', server.adminUrl);
  return async () => {
    await server.stop();
  };
}
