/**
 * Evaluates predicted masks against a ground-truth masks directory, reading both frame by frame.
 * @module
 */
import { SequenceEvaluator, type SequenceScores } from "./evaluator.ts";
import { openPredictions, readGroundTruth } from "./sources.ts";

/** Sequence scores plus how the prediction's frames lined up with the ground truth's. */
export interface EvaluationReport extends SequenceScores {
  readonly prediction: string;
  readonly groundTruth: string;
  /** Ground-truth frames with no predicted frame (scored as empty predictions). */
  readonly missingPredictionFrames: number;
  /** Predicted frames with no ground-truth frame (not scored). */
  readonly unusedPredictionFrames: number;
}

/**
 * Scores `prediction` (a masks directory or a masks JSONL file) against the ground-truth masks
 * directory `groundTruth`. See `evaluator.ts` for the conventions (J, F, identity switches).
 * Throws one-line errors for missing or corrupt inputs and size mismatches.
 *
 * @example
 * ```ts
 * const report = await evaluateMasks("out/masks.jsonl", "samples/occlusion/gt");
 * console.log(report.jfMean);
 * ```
 */
export async function evaluateMasks(
  prediction: string,
  groundTruth: string,
  boundThreshold?: number,
): Promise<EvaluationReport> {
  const evaluator = new SequenceEvaluator(boundThreshold);
  const gtFrames = readGroundTruth(groundTruth);
  // Open the ground truth first so its errors are reported before the prediction's.
  const first = await gtFrames.next();
  const predictions = await openPredictions(prediction);
  let missing = 0;
  try {
    for (let gt = first; !gt.done; gt = await gtFrames.next()) {
      const predicted = await predictions.at(gt.value.frameIndex);
      if (predicted === undefined) missing++;
      evaluator.addFrame(gt.value, predicted);
    }
    const unused = await predictions.unusedFrames();
    return {
      prediction,
      groundTruth,
      ...evaluator.finish(),
      missingPredictionFrames: missing,
      unusedPredictionFrames: unused,
    };
  } finally {
    await predictions.close();
  }
}
