/**
 * A segmenter lent to a borrower (a job, a tracking run) by whoever owns it: the borrower uses it
 * as its own, and its `dispose()` hands it back instead of releasing it.
 * @module
 */
import type { Segmenter } from "./segmenter.ts";

/**
 * `segmenter` as a borrower sees it: everything but `dispose`, which calls `giveBack` once the
 * calls under way have settled (a stopped run's last frame must not share the segmenter with
 * whatever uses it next). Only the first `dispose()` gives it back.
 *
 * @example
 * ```ts
 * const lent = lendSegmenter(segmenter, () => console.log("back"));
 * await lastValueFrom(frames.pipe(withSegmenter(() => Promise.resolve(lent), track)));
 * ```
 */
export function lendSegmenter(segmenter: Segmenter, giveBack: () => void): Segmenter {
  const running = new Set<Promise<unknown>>();
  let lent = true;
  const track = <T>(call: Promise<T>): Promise<T> => {
    running.add(call);
    const forget = () => running.delete(call);
    call.then(forget, forget);
    return call;
  };
  const describe = segmenter.describe;
  return {
    embed: (frame) => track(segmenter.embed(frame)),
    decode: (embedding, prompts) => track(segmenter.decode(embedding, prompts)),
    upscaleLogits: (embedding, logits, window) =>
      segmenter.upscaleLogits(embedding, logits, window),
    ...(describe
      ? {
        describe: (embedding, logits, within) =>
          describe.call(segmenter, embedding, logits, within),
      }
      : {}),
    ...(segmenter.background ? { background: segmenter.background } : {}),
    dispose: async () => {
      await Promise.allSettled([...running]);
      if (!lent) return;
      lent = false;
      giveBack();
    },
  };
}
