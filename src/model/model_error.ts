/**
 * The error type of the model registry, download and cache.
 * @module
 */
import { oneLine } from "./checkpoint/errors.ts";

/**
 * A model could not be found, downloaded or cached. The message is one line that says what
 * failed and, where there is one, what to do instead, so a command-line tool prints it as is.
 *
 * @example
 * ```ts
 * import { ModelError } from "./model_error.ts";
 *
 * try {
 *   throw new ModelError("unknown model 'sam-h'; known models: tinysam-42.3, tinysam-41.9, mobilesam");
 * } catch (error) {
 *   if (error instanceof ModelError) console.error(error.message);
 * }
 * ```
 */
export class ModelError extends Error {
  /** @param message what failed (newlines are flattened so the message stays one line) */
  constructor(message: string) {
    super(oneLine(message));
    this.name = "ModelError";
  }
}

/**
 * A model name that is neither in the registry nor in the cache; the message lists the known
 * names. Command-line tools treat it as a usage error.
 */
export class UnknownModelError extends ModelError {
  /** @param message one line naming the unknown model and the known ones */
  constructor(message: string) {
    super(message);
    this.name = "UnknownModelError";
  }
}
