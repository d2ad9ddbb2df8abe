import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";
import { defineConfig } from "vitest/config";

// The shell serves ui/dist under a strict CSP (script-src 'self'; style-src 'self'):
// everything must be a file next to index.html, nothing inline, nothing remote.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  // svelteTesting acts under Vitest only: it unmounts each test's components.
  plugins: [svelte(), svelteTesting()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    // The preload polyfill and inlined assets would need inline script or data: URLs.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
  },
  server: {
    strictPort: true,
    port: 1420,
    // The catalogues are shared with the Rust side and live in crates/l10n.
    fs: { allow: [".", "../crates/l10n/locales"] },
  },
  // Component tests mount real Svelte components, which needs the browser build.
  resolve: process.env.VITEST ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts"],
    setupFiles: ["tests/setup.ts"],
  },
});
