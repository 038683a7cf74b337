import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests mostly wait on child processes, HTTP and PostgreSQL: three at a time on two cores takes the
    // suite from about 570 s to about 210 s (the default, one fewer than the cores, runs them one by one).
    maxWorkers: 3,
    projects: [
      // A hang guard, not a speed check: some unit tests build an emulated org, and three files run beside each other.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/globalSetup.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
