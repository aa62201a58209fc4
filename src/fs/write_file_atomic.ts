/**
 * Writing a file so that readers see either nothing or all of it.
 * @module
 */

/**
 * Writes `bytes` to `path` through a temporary file in the same directory, renamed into place;
 * on failure the temporary file is removed and nothing is left at `path` that was not there.
 *
 * @example
 * ```ts
 * await writeFileAtomic("out/manifest.json", new TextEncoder().encode("{}\n"));
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${Deno.pid}.partial`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
