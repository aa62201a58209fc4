/**
 * Where the shared test material lives (real clips, the TinySAM reference fixture) and
 * whether it is present. CI always has it; a fresh clone may not, and then the tests that
 * need it are skipped with one message.
 * @module
 */
import { fileURLToPath } from "node:url";

/** `../shared` beside the checkout. */
export const SHARED_DIR: string = fileURLToPath(new URL("../../../shared", import.meta.url));

/** Real clips used by tests and benchmarks. */
export const CLIPS_DIR = `${SHARED_DIR}/clips`;

/** The random-weight TinySAM checkpoint and the official outputs computed from it. */
export const FIXTURE_DIR = `${SHARED_DIR}/fixtures/tinysam-reference`;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `../shared` is present. */
export const sharedAvailable: boolean = exists(SHARED_DIR);

if (!sharedAvailable) {
  console.warn(
    `tests needing ${SHARED_DIR} (real clips, TinySAM reference fixture) are skipped: it is absent`,
  );
}
