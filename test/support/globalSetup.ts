// Starts (or chooses) one PostgreSQL for the whole integration run and hands its URL to the test files.
import type { TestProject } from 'vitest/node';
import { resolvePostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await resolvePostgres().catch((err: Error) => {
    // One line with the way out, not a stack trace from inside the setup.
    const failure = new Error(
      `no PostgreSQL for the integration tests: ${err.message.replace(/\s*\n\s*/g, ' ')} ` +
        '(or set TEST_DATABASE_URL=postgres://user:password@host:port/db)',
    );
    failure.stack = failure.message;
    throw failure;
  });
  project.provide('pgAdminUrl', server.adminUrl);
  return async () => {
    await server.stop();
  };
}
