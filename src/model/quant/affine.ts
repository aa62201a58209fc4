/**
 * 8-bit affine quantization arithmetic, exactly as ONNX QuantizeLinear/DequantizeLinear define it
 * (`q = saturate(round_half_even(x / scale) + zero_point)`, `x' = (q - zero_point) * scale`).
 * @module
 */

/** Parameters of a uint8 activation quantizer. */
export interface ActivationQuant {
  readonly scale: number;
  /** In 0..255. */
  readonly zeroPoint: number;
}

/** Rounds half to even, as ONNX QuantizeLinear does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The uint8 quantizer covering `[lo, hi]`; the range is widened to include 0 so that zero
 * (padding, ReLU output) is exact.
 */
export function activationQuant(lo: number, hi: number): ActivationQuant {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  const scale = Math.fround(max > min ? (max - min) / 255 : 1);
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-min / scale)));
  return { scale, zeroPoint };
}

/** `x` quantized to uint8 and back. */
export function fakeQuantize(x: number, q: ActivationQuant): number {
  const level = Math.min(255, Math.max(0, roundHalfEven(x / q.scale) + q.zeroPoint));
  return (level - q.zeroPoint) * q.scale;
}

/** Symmetric int8 weights with one scale per output channel. */
export interface ChannelQuantizedWeights {
  readonly values: Int8Array;
  readonly scales: Float32Array;
}

/**
 * Largest weight magnitude level used. 127 on CPUs with VNNI dot products; 63 (7-bit weights)
 * where u8 x s8 products are summed pairwise into saturating int16 (AVX2/AVX-512 without VNNI).
 */
export type WeightLevels = 127 | 63;

/**
 * Quantizes a weight tensor per output channel, symmetric int8. `channelOf(i)` gives the output
 * channel of flat element `i`; `importance(i)` weights each element's squared error (the
 * diagonal of the layer's input Hessian, so the error measured is the layer's output error).
 * Each channel's clipping range is searched over fractions of its largest magnitude.
 */
export function quantizeWeightsPerChannel(
  weights: Float32Array,
  channels: number,
  channelOf: (i: number) => number,
  importance: (i: number) => number,
  levels: WeightLevels,
): ChannelQuantizedWeights {
  const members: number[][] = Array.from({ length: channels }, () => []);
  for (let i = 0; i < weights.length; i++) members[channelOf(i)].push(i);
  const values = new Int8Array(weights.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const idx = members[c];
    let maxAbs = 0;
    for (const i of idx) maxAbs = Math.max(maxAbs, Math.abs(weights[i]));
    if (maxAbs === 0) {
      scales[c] = 1;
      continue;
    }
    let best = Infinity;
    let bestScale = maxAbs / levels;
    for (let step = 0; step <= 20; step++) {
      const scale = Math.fround((maxAbs * (1 - step * 0.01)) / levels);
      let error = 0;
      for (const i of idx) {
        const q = Math.max(-levels, Math.min(levels, roundHalfEven(weights[i] / scale)));
        const d = q * scale - weights[i];
        error += d * d * importance(i);
      }
      if (error < best) {
        best = error;
        bestScale = scale;
      }
    }
    scales[c] = bestScale;
    for (const i of idx) {
      values[i] = Math.max(-levels, Math.min(levels, roundHalfEven(weights[i] / bestScale)));
    }
  }
  return { values, scales };
}
