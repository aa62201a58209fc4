/**
 * When the user's prompts apply: each prompt on the first processed frame at or after its frame
 * (frames may be skipped when a live input drops them). A prompt for an object that already
 * exists is a correction.
 * @module
 */
import { type ObjectPrompt, promptFrameIndex } from "../prompts.ts";

/**
 * The user's prompts in frame order, handed out as frames arrive.
 *
 * @example
 * ```ts
 * const schedule = new PromptSchedule(prompts, 30);
 * for (const prompt of schedule.take(frame.index)) apply(prompt);
 * ```
 */
export class PromptSchedule {
  readonly #pending: { frame: number; prompt: ObjectPrompt }[];
  #next = 0;

  /**
   * @param prompts validated prompts (see `resolvePrompts`)
   * @param fps needed only for prompts given as a time
   */
  constructor(prompts: readonly ObjectPrompt[], fps?: number) {
    this.#pending = prompts.map((prompt) => {
      if (!("frame" in prompt.at) && !(fps && fps > 0)) {
        throw new Error(
          `${prompt.origin}: a prompt given as a time needs the frame rate (resolve the prompts first)`,
        );
      }
      return { frame: promptFrameIndex(prompt, fps ?? 0), prompt };
    }).sort((a, b) => a.frame - b.frame || a.prompt.objectId - b.prompt.objectId);
  }

  /** Every object id the prompts name. */
  ids(): number[] {
    return [...new Set(this.#pending.map((p) => p.prompt.objectId))];
  }

  /** Whether a prompt not handed out yet is due on or before `frameIndex`. */
  dueOn(frameIndex: number): boolean {
    return this.#next < this.#pending.length && this.#pending[this.#next].frame <= frameIndex;
  }

  /**
   * The prompts due on `frameIndex` and not handed out yet, one per object (the latest when
   * several were skipped over), by increasing object id.
   */
  take(frameIndex: number): ObjectPrompt[] {
    const due = new Map<number, ObjectPrompt>();
    while (this.#next < this.#pending.length && this.#pending[this.#next].frame <= frameIndex) {
      const { prompt } = this.#pending[this.#next++];
      due.set(prompt.objectId, prompt);
    }
    return [...due.values()].sort((a, b) => a.objectId - b.objectId);
  }
}
