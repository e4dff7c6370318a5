import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Temporal's native worker and BullMQ's blocking connections want real processes, not threads.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests talk to real servers; a retry would hide a real failure.
    retry: 0,
    reporters: ['default'],
  },
});
