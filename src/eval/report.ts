/**
 * Plain-text table of an evaluation report.
 * @module
 */
import type { EvaluationReport } from "./evaluate.ts";

/**
 * One row per ground-truth object, then the means and totals, then notes on frame alignment.
 *
 * @example
 * ```ts
 * console.log(formatReportTable(await evaluateMasks("pred.jsonl", "gt")));
 * ```
 */
export function formatReportTable(report: EvaluationReport): string {
  const header = [
    "object",
    "visible",
    "J",
    "J-recall",
    "F",
    "F-recall",
    "J&F",
    "id-switches",
    "drawn-absent",
    "after-left",
  ];
  const rows = report.objects.map((o) => [
    String(o.id),
    `${o.visibleFrames}/${o.frames}`,
    fixed(o.jMean),
    fixed(o.jRecall),
    fixed(o.fMean),
    fixed(o.fRecall),
    fixed(o.jfMean),
    String(o.idSwitches),
    String(o.drawnWhileAbsent),
    String(o.drawnAfterLeft),
  ]);
  rows.push([
    "mean",
    "",
    fixed(report.jMean),
    "",
    fixed(report.fMean),
    "",
    fixed(report.jfMean),
    String(report.idSwitches),
    String(report.drawnWhileAbsent),
    String(report.drawnAfterLeft),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join("  ");
  const lines = [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  lines.push(
    `${report.frames} frames ${report.width}x${report.height}, boundary tolerance ${report.boundaryTolerancePx} px`,
  );
  if (report.missingPredictionFrames > 0) {
    lines.push(
      `${report.missingPredictionFrames} ground-truth frames had no prediction (scored as empty)`,
    );
  }
  if (report.unusedPredictionFrames > 0) {
    lines.push(`${report.unusedPredictionFrames} predicted frames have no ground truth (ignored)`);
  }
  if (report.predictionOnlyIds.length > 0) {
    lines.push(`predicted ids not in the ground truth: ${report.predictionOnlyIds.join(", ")}`);
  }
  return lines.join("\n");
}

function fixed(value: number): string {
  return Number.isNaN(value) ? "-" : value.toFixed(3);
}
