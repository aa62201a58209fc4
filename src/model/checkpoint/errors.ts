/**
 * The one error type the checkpoint reader throws.
 * @module
 */

/**
 * A checkpoint could not be read or does not fit the model: the message is one line that
 * says which file, what is wrong and where (a byte offset, a record or a tensor name), so a
 * command-line tool can print it as is, without a stack trace.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./errors.ts";
 * import { readCheckpoint } from "./read_checkpoint.ts";
 *
 * try {
 *   await readCheckpoint("model.pth");
 * } catch (error) {
 *   if (error instanceof CheckpointError) console.error(error.message);
 *   else throw error;
 * }
 * ```
 */
export class CheckpointError extends Error {
  /** The file (or name) the problem was found in. */
  readonly source: string;

  /**
   * @param source the file the problem was found in, e.g. `checkpoint.pth`
   * @param problem what is wrong and where, e.g. `tensor 'x' reads beyond its storage`
   */
  constructor(source: string, problem: string) {
    super(oneLine(`${source}: ${problem}`));
    this.name = "CheckpointError";
    this.source = source;
  }
}

/** Collapses control characters (newlines from a hostile file, say) so a message stays one line. */
export function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/** Quotes a name taken from a checkpoint for an error message: one line, at most 80 characters. */
export function quoteName(name: string): string {
  const flat = oneLine(name);
  return `'${flat.length > 80 ? `${flat.slice(0, 77)}...` : flat}'`;
}
