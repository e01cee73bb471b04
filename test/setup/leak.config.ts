import { defineConfig } from 'vitest/config';

/** Runs the deliberately leaky file under the same leftovers check as the suite. */
export default defineConfig({
  test: { include: ['test/setup/leaky/*.leak.ts'], setupFiles: ['test/setup/leftovers.ts'], reporters: ['default'] },
});
