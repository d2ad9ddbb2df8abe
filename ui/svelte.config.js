import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

export default {
  preprocess: vitePreprocess(),
  // Component styles go to the emitted CSS file (vite-plugin-svelte's emitCss),
  // never to <style> tags injected at run time: the CSP has no 'unsafe-inline'.
  compilerOptions: { css: "external" },
};
