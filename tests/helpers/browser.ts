/**
 * A real headless Chromium for tests that need a browser: Debian's `chromium`, driven by
 * playwright-core over a pipe (no debugging port), with a fresh profile per launch and the
 * flags that keep it off the network. Errors that the page reports fail the test.
 * @module
 */
import { chromium, type ConsoleMessage, type Page } from "playwright-core";

export type { Page };

/** Where Chromium is: Debian's launcher, else the first `chromium` on PATH. */
const chromiumPath: string | undefined = findChromium();

/** Whether Chromium is installed (`/usr/bin/chromium` or `chromium` on PATH). */
export const chromiumAvailable: boolean = chromiumPath !== undefined;

if (!chromiumAvailable) {
  console.warn("tests needing chromium (apt-get install chromium) are skipped: not installed");
}

function findChromium(): string | undefined {
  const dirs = ["/usr/bin", ...(Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir)];
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/chromium`).isFile) return `${dir}/chromium`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Chromium's flags. Playwright passes most of them already; they are listed in full so that
 * none depends on its defaults. The networking ones stop Chromium from calling hosts that
 * this closed network refuses. Playwright adds `--remote-debugging-pipe` and the
 * `--user-data-dir`, so nothing listens on any port.
 */
const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Some services call out all the same (sign-in's ListAccounts, the extension updater):
  // every host name but localhost fails to resolve, so not even a DNS query leaves.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/** Options for {@linkcode withBrowser}. */
export interface BrowserOptions {
  /** The page's viewport in CSS pixels (Playwright's default is 1280x720). */
  viewport?: { width: number; height: number };
  /** Do not fail on console errors or uncaught exceptions in the page. */
  allowPageErrors?: boolean;
}

/**
 * Launches headless Chromium, opens one page and resolves with what `fn` resolves to. The
 * browser is closed and its profile directory removed whatever happens. If the page logged a
 * console error or threw an uncaught exception, this rejects after `fn` succeeds, listing
 * them (unless `allowPageErrors`); an error from `fn` itself is passed on as it is.
 *
 * @example
 * ```ts ignore
 * const title = await withBrowser(async (page) => {
 *   await page.goto(`${baseUrl}/index.html`);
 *   return await page.title();
 * });
 * ```
 */
export async function withBrowser<T>(
  fn: (page: Page) => Promise<T>,
  options: BrowserOptions = {},
): Promise<T> {
  if (chromiumPath === undefined) {
    throw new Error("chromium is not installed (apt-get install chromium)");
  }
  const userDataDir = await Deno.makeTempDir({ prefix: "chromium_profile_" });
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      // Chromium's crash reporter keeps its files under $XDG_CONFIG_HOME, not the profile.
      env: { ...Deno.env.toObject(), XDG_CONFIG_HOME: userDataDir },
      ...(options.viewport ? { viewport: options.viewport } : {}),
    });
    let result: T;
    try {
      const page = context.pages()[0] ?? await context.newPage();
      const pageErrors = collectPageErrors(page);
      result = await fn(page);
      if (pageErrors.length > 0 && !options.allowPageErrors) {
        throw new Error(
          `the page reported ${pageErrors.length} error(s):\n${pageErrors.join("\n")}`,
        );
      }
    } catch (error) {
      // The first error is the one to see, not one from closing after it.
      await context.close().catch(() => {});
      throw error;
    }
    await context.close();
    return result;
  } finally {
    await Deno.remove(userDataDir, { recursive: true });
  }
}

/** Starts recording the page's console errors and uncaught exceptions, one line each. */
function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message: ConsoleMessage) => {
    if (message.type() !== "error") return;
    const { url, lineNumber } = message.location();
    errors.push(`console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
  });
  page.on("pageerror", (error: Error) => {
    errors.push(`uncaught ${error.stack ?? error.message}`);
  });
  return errors;
}
