// The window's words: Fluent catalogues shared with the Rust side
// (crates/l10n/locales/<lang>/), chosen by the locale the shell resolved
// (Status.locale: the system's, or the customer's choice in Settings).
// Components never hold a sentence: they call t("message-id", { values }).
// Amounts and dates go through Intl in the same locale (format.ts).
import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";

/** The languages with catalogues; English is the source. */
export const LANGS = ["en", "de", "fr"] as const;
export type Lang = (typeof LANGS)[number];

// Every .ftl the window uses: its own window-*.ftl, and the alert kinds and
// errors it shares with notifications and the CLI. Bundled at build time.
const files = import.meta.glob(
  [
    "../../../crates/l10n/locales/*/window-*.ftl",
    "../../../crates/l10n/locales/*/kinds.ftl",
    "../../../crates/l10n/locales/*/errors.ftl",
  ],
  {
  query: "?raw",
    import: "default",
    eager: true,
  },
) as Record<string, string>;

const WINDOW_FILE = /\/locales\/(en|de|fr)\/(window-[\w-]+|kinds|errors)\.ftl$/;

function makeBundle(lang: Lang): FluentBundle {
  // No isolation marks: text is rendered as text, and tests and screen
  // readers should not meet invisible characters around every value.
  const bundle = new FluentBundle(lang, { useIsolating: false });
  for (const [path, text] of Object.entries(files)) {
    const m = WINDOW_FILE.exec(path);
    if (m && m[1] === lang) {
      const errors = bundle.addResource(new FluentResource(text));
      if (errors.length > 0) console.error(`catalogue ${path}:`, errors);
    }
  }
  return bundle;
}

const bundles = new Map<Lang, FluentBundle>();
function bundleFor(lang: Lang): FluentBundle {
  let b = bundles.get(lang);
  if (!b) {
    b = makeBundle(lang);
    bundles.set(lang, b);
  }
  return b;
}

/** The language of a BCP 47 tag, when there are catalogues for it. */
export function langOf(tag: string): Lang | null {
  const code = tag.split(/[-_]/)[0]?.toLowerCase();
  return (LANGS as readonly string[]).includes(code) ? (code as Lang) : null;
}

// The current locale. $state, so every t() and format call in a template
// re-runs when the language changes.
const current = $state({ lang: "en" as Lang, tag: "en-US" });

/**
 * Use a locale (a BCP 47 tag such as "de-DE", as the shell resolved it).
 * A tag without catalogues keeps its formats but speaks English.
 */
export function setLocale(tag: string): void {
  let t = tag;
  try {
    t = Intl.getCanonicalLocales(tag)[0] ?? "en-US";
  } catch {
    t = "en-US";
  }
  current.lang = langOf(t) ?? "en";
  current.tag = t;
  if (typeof document !== "undefined") document.documentElement.lang = t;
}

/** The current locale's BCP 47 tag, for Intl. */
export function localeTag(): string {
  return current.tag;
}

/** The current language. */
export function lang(): Lang {
  return current.lang;
}

export type Values = Record<string, FluentVariable>;

/**
 * The message `id` (or `id.attribute`) in the current language. A message the
 * language lacks falls back to English, then to the id, so a gap is visible
 * (the catalogue check in the test command fails on it).
 */
export function t(id: string, values?: Values): string {
  const l = current.lang;
  return format(bundleFor(l), id, values) ?? (l === "en" ? null : format(bundleFor("en"), id, values)) ?? id;
}

/** Whether the catalogue has `id`, for codes the window may not know. */
export function has(id: string): boolean {
  const [m, attr] = id.split(".", 2);
  const msg = bundleFor("en").getMessage(m);
  return !!msg && (attr ? !!msg.attributes[attr] : !!msg.value);
}

function format(bundle: FluentBundle, id: string, values?: Values): string | null {
  const [m, attr] = id.split(".", 2);
  const msg = bundle.getMessage(m);
  const pattern = attr ? msg?.attributes[attr] : msg?.value;
  if (!pattern) return null;
  return bundle.formatPattern(pattern, values ?? null, []);
}
