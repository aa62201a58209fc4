/**
 * Assertions shared by the checkpoint reader tests.
 * @module
 */

import assert from "node:assert/strict";
import { CheckpointError } from "../../src/model/checkpoint/errors.ts";

/**
 * Asserts that `run` throws a CheckpointError whose message is one line, starts with the
 * source name and matches `pattern`; returns the message.
 */
export function assertRefused(run: () => unknown, source: string, pattern: RegExp): string {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof CheckpointError, `expected a CheckpointError, got ${caught}`);
  const { message } = caught;
  assert.ok(!message.includes("\n"), `message is not one line: ${JSON.stringify(message)}`);
  assert.ok(message.startsWith(`${source}: `), `message does not name ${source}: ${message}`);
  assert.match(message, pattern);
  return message;
}

/** Same as {@link assertRefused} for a promise. */
export async function assertRefusedAsync(
  run: () => Promise<unknown>,
  source: string,
  pattern: RegExp,
): Promise<string> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  return assertRefused(
    () => {
      throw caught;
    },
    source,
    pattern,
  );
}
