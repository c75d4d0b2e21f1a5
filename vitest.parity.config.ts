import { defineConfig } from "vitest/config";

// Parity tests compare our engine with an independent PyTorch implementation (Debian python3-torch).
export default defineConfig({
  test: {
    include: ["src/**/*.parity.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: "forks",
    globalSetup: ["vitest.tmpdir.ts"],
  },
});
