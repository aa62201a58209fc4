/**
 * Chooses each activation quantizer's clipping range by the error it causes, not by min/max:
 * candidate ranges cut increasing tails off the observed distribution, and the one with the
 * smallest importance-weighted squared error on the sampled rows wins. With importance = the
 * sum of squared weights each input channel feeds, that error is the layer's output error
 * under a diagonal approximation of the input Hessian.
 * @module
 */
import { type ActivationQuant, activationQuant, fakeQuantize } from "./affine.ts";

const TAILS = [0, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2];
const MAX_EVALUATED = 1 << 18;

function quantileSorted(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

/**
 * The uint8 quantizer minimizing `sum_i importance[channel(i)] * (fq(x_i) - x_i)^2` over the
 * sampled rows (`rows x channels`, row-major), among ranges with lower and upper tails cut
 * independently. `min`/`max` are the true extremes over all data (the no-clipping candidate).
 */
export function searchActivationRange(
  samples: Float32Array,
  channels: number,
  min: number,
  max: number,
  importance?: Float32Array,
): ActivationQuant {
  const stride = Math.max(1, Math.floor(samples.length / MAX_EVALUATED));
  const evaluated: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < samples.length; i += stride) {
    evaluated.push(samples[i]);
    weights.push(importance ? importance[i % channels] : 1);
  }
  const sorted = Float32Array.from(samples).sort();
  const lows = TAILS.map((t) => (t === 0 ? min : quantileSorted(sorted, t)));
  const highs = TAILS.map((t) => (t === 0 ? max : quantileSorted(sorted, 1 - t)));
  let best = activationQuant(min, max);
  let bestError = Infinity;
  for (const lo of lows) {
    for (const hi of highs) {
      if (hi <= lo) continue;
      const q = activationQuant(lo, hi);
      let error = 0;
      for (let i = 0; i < evaluated.length; i++) {
        const d = fakeQuantize(evaluated[i], q) - evaluated[i];
        error += weights[i] * d * d;
      }
      if (error < bestError) {
        bestError = error;
        best = q;
      }
    }
  }
  return best;
}

/**
 * A uint8 quantizer with one scale per channel and a zero point shared by all channels (what an
 * integer matrix product can consume: the scales fold into the weights' rows).
 */
export interface ChannelActivationQuant {
  readonly scales: Float32Array;
  /** In 0..255, shared. */
  readonly zeroPoint: number;
}

const ZERO_POINTS = [0, 32, 64, 96, 128, 160, 192, 224, 255];
const SHRINKS = [1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5];

function channelScales(
  min: Float32Array,
  max: Float32Array,
  zeroPoint: number,
  shrink: number,
): Float32Array {
  return Float32Array.from(min, (lo, c) => {
    const fromHigh = zeroPoint < 255 ? Math.max(max[c], 0) / (255 - zeroPoint) : 0;
    const fromLow = zeroPoint > 0 ? Math.max(-lo, 0) / zeroPoint : 0;
    // A channel whose values the zero point cannot reach on one side is clipped there.
    return Math.max(fromHigh, fromLow, 1e-8) * shrink;
  });
}

/**
 * Per-channel activation ranges (SmoothQuant-like: each channel gets the resolution its own
 * range needs) with one shared zero point: the zero point and a common shrink of every
 * channel's range are searched for the smallest importance-weighted squared error on the
 * sampled rows.
 */
export function searchChannelRanges(
  samples: Float32Array,
  channels: number,
  channelMin: Float32Array,
  channelMax: Float32Array,
  importance?: Float32Array,
): ChannelActivationQuant {
  const rows = samples.length / channels;
  const rowStride = Math.max(
    1,
    Math.floor(rows / Math.max(1, Math.floor(MAX_EVALUATED / channels))),
  );
  let best: ChannelActivationQuant = {
    scales: channelScales(channelMin, channelMax, 128, 1),
    zeroPoint: 128,
  };
  let bestError = Infinity;
  for (const zeroPoint of ZERO_POINTS) {
    for (const shrink of SHRINKS) {
      const scales = channelScales(channelMin, channelMax, zeroPoint, shrink);
      let error = 0;
      for (let r = 0; r < rows; r += rowStride) {
        for (let c = 0; c < channels; c++) {
          const x = samples[r * channels + c];
          const level = Math.min(255, Math.max(0, Math.round(x / scales[c]) + zeroPoint));
          const d = (level - zeroPoint) * scales[c] - x;
          error += (importance ? importance[c] : 1) * d * d;
        }
      }
      if (error < bestError) {
        bestError = error;
        best = { scales, zeroPoint };
      }
    }
  }
  return best;
}
