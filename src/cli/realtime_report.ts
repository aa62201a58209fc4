/**
 * The end-of-run report of what a tracking run's keyframes were: one line for people, one JSON
 * record for programs (`--progress json`).
 * @module
 */
import type { RealtimeReport } from "./segmentation_stage.ts";

/**
 * One line, e.g. `keyframes: auto (latency target 250 ms), refined async: 41 of 300 frames
 * encoded (1 in 7.3); refinements landed 12.1 frames after their keyframe; smallest interval 4;
 * 1.35 encoder runs per second`.
 *
 * @example
 * ```ts
 * say(formatRealtimeReport(report));
 * ```
 */
export function formatRealtimeReport(report: RealtimeReport): string {
  const { counts } = report;
  let line =
    `keyframes: ${report.policy}, refined ${report.refine}: ${counts.encoded} of ${counts.frames} frames encoded`;
  if (counts.encoded > 0) line += ` (1 in ${(counts.frames / counts.encoded).toFixed(1)})`;
  if (counts.folded > 0) {
    line += `; refinements landed ${counts.meanFoldDelay.toFixed(1)} frames after their keyframe`;
  }
  if (report.minInterval !== undefined) line += `; smallest interval ${report.minInterval}`;
  if (counts.discoveryPasses > 0) {
    line += `; ${counts.discoveryPasses} everything passes`;
    if (counts.maxDiscoveryDelay > 0) {
      line += `, started up to ${counts.maxDiscoveryDelay} frames after they were due ` +
        `(mean ${counts.meanDiscoveryDelay.toFixed(1)})`;
    }
    if (counts.discoveriesLanded > 0) {
      line += `, each took ${counts.meanDiscoveryFrames.toFixed(0)} frames to land`;
    }
    if (counts.discoverySkipped > 0) {
      line +=
        `; ${counts.discoverySkipped} scheduled passes skipped: the one before was still running`;
    }
  }
  return `${line}; ${encodedPerSecond(report).toFixed(2)} encoder runs per second`;
}

/**
 * The JSON record: `{"event":"keyframes","policy":..,"refine":..,"frames":..,"encoded":..,
 * "meanInterval":..,"reasons":{..},"folded":..,"meanFoldDelay":..,"minInterval":..,
 * "encodedPerSecond":..,"discoveryPasses":..,"meanDiscoveryDelay":..,"maxDiscoveryDelay":..,
 * "discoverySkipped":..,"discoveriesLanded":..,"meanDiscoveryFrames":..}`.
 */
export function realtimeReportRecord(report: RealtimeReport): Record<string, unknown> {
  const { counts } = report;
  return {
    event: "keyframes",
    policy: report.policy,
    refine: report.refine,
    frames: counts.frames,
    encoded: counts.encoded,
    meanInterval: counts.encoded > 0
      ? Math.round(100 * counts.frames / counts.encoded) / 100
      : null,
    reasons: counts.reasons,
    folded: counts.folded,
    meanFoldDelay: Math.round(100 * counts.meanFoldDelay) / 100,
    ...(report.minInterval !== undefined ? { minInterval: report.minInterval } : {}),
    encodedPerSecond: Math.round(100 * encodedPerSecond(report)) / 100,
    discoveryPasses: counts.discoveryPasses,
    meanDiscoveryDelay: Math.round(100 * counts.meanDiscoveryDelay) / 100,
    maxDiscoveryDelay: counts.maxDiscoveryDelay,
    discoverySkipped: counts.discoverySkipped,
    discoveriesLanded: counts.discoveriesLanded,
    meanDiscoveryFrames: Math.round(100 * counts.meanDiscoveryFrames) / 100,
  };
}

/** Encoder runs per second while the model was open. */
function encodedPerSecond(report: RealtimeReport): number {
  return report.counts.encoded / Math.max(report.modelOpenSeconds, 1e-3);
}
