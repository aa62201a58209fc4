/**
 * The simplest prompted stage: every object's latest prompt is decoded again on every frame,
 * with no propagation (objects do not follow motion). Useful to inspect what the model makes
 * of the prompts themselves; the tracker is the default stage.
 * @module
 */
import { concatMap, type OperatorFunction } from "rxjs";
import type { Frame } from "../frame.ts";
import { frameMasksOf, type ObjectMask, type PromptMarker, type SegmentedFrame } from "./mask.ts";
import { objectMaskFromDecoded, outputForPrompt } from "./object_mask.ts";
import type { ObjectPrompt } from "./prompts.ts";
import type { PromptSet, Segmenter } from "./segmenter.ts";

function frameOf(prompt: ObjectPrompt): number {
  return "frame" in prompt.at ? prompt.at.frame : 0;
}

/**
 * Decodes, on every frame, the latest prompt of each object whose first prompt has been reached,
 * in one batched decoder call.
 *
 * @example
 * ```ts
 * frames.pipe(decodePromptsEachFrame(segmenter, prompts));
 * ```
 */
export function decodePromptsEachFrame(
  segmenter: Segmenter,
  prompts: readonly ObjectPrompt[],
): OperatorFunction<Frame, SegmentedFrame> {
  return concatMap(async (frame) => {
    const latest = new Map<number, ObjectPrompt>();
    for (const prompt of prompts) {
      if (frameOf(prompt) <= frame.index) latest.set(prompt.objectId, prompt);
    }
    const active = [...latest.values()];
    const objects: ObjectMask[] = [];
    const markers: PromptMarker[] = active.map((p) => ({
      objectId: p.objectId,
      points: p.points,
      box: p.box,
    }));
    if (active.length > 0) {
      const embedding = await segmenter.embed(frame);
      const sets: PromptSet[] = active.map((p) => ({ points: p.points, box: p.box }));
      const decoded = await segmenter.decode(embedding, sets);
      active.forEach((prompt, i) => {
        const output = outputForPrompt(sets[i], decoded[i]);
        const object = objectMaskFromDecoded(
          segmenter,
          embedding,
          decoded[i],
          output,
          prompt.objectId,
          prompt.label,
        );
        if (object) objects.push(object);
      });
    }
    return { frame, masks: frameMasksOf(frame, objects, markers) };
  });
}
