/**
 * Writing a directory of outputs so that readers see either nothing or all of it: the files go
 * into a hidden sibling directory, which is renamed into place once complete. A run that dies
 * leaves at most a hidden `.NAME.partial-KEY-*` directory, which the next run with the same key
 * removes.
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Makes a fresh hidden directory beside `outputDir` for one run identified by `key`, after
 * removing what earlier runs with the same key left behind (a process killed mid-run).
 *
 * @example
 * ```ts
 * const partial = await startPartial("out/clip", "job-1"); // out/.clip.partial-job-1-3f2a9c1e
 * ```
 */
export async function startPartial(outputDir: string, key: string): Promise<string> {
  const parent = dirname(outputDir);
  await Deno.mkdir(parent, { recursive: true });
  const prefix = `.${basename(outputDir)}.partial-${key}-`;
  for await (const entry of Deno.readDir(parent)) {
    if (entry.name.startsWith(prefix)) {
      await Deno.remove(join(parent, entry.name), { recursive: true });
    }
  }
  // Not makeTempDir: its directories are private (0700); outputs get the usual permissions.
  const partial = join(parent, `${prefix}${crypto.randomUUID().slice(0, 8)}`);
  await Deno.mkdir(partial);
  return partial;
}

/** Removes a run's hidden directory (nothing is left that looks finished). */
export async function discardPartial(partial: string): Promise<void> {
  await Deno.remove(partial, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}

/**
 * Renames `partial` to `outputDir`. What is already at `outputDir` (an earlier run) is moved
 * aside first and removed after the rename, so the directory is never half old, half new.
 */
export async function commitPartial(partial: string, outputDir: string): Promise<void> {
  const aside = `${partial}.replaced`;
  let replaced = false;
  try {
    await Deno.rename(outputDir, aside);
    replaced = true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(partial, outputDir);
  if (replaced) await Deno.remove(aside, { recursive: true });
}
