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
