/**
 * SHA-256 of a file, streamed (checkpoints are about 40 MB; nothing is held in memory).
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Lower-case hex SHA-256 of the file at `path`.
 *
 * @example
 * ```ts ignore
 * import { sha256File } from "./sha256_file.ts";
 *
 * console.log(await sha256File("tinysam_42.3.pth"));
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path, { read: true });
  // The readable closes the file when it ends or the loop stops early.
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}
