/**
 * Calibration: run the float graph with every quantizable layer's inputs (and convolution
 * outputs) exposed as extra graph outputs, and keep, per tensor, its range and a deterministic
 * sample of rows (one row = one token's or one pixel's channels) for the scale search.
 * @module
 */
import type { GraphBuilder, Value } from "../onnx/graph.ts";
import {
  type ConvSpec,
  emitInputNorm,
  float32Layers,
  type LayerEmitter,
  type LinearSpec,
} from "../tinysam/layers.ts";

/** A layer whose tensors calibration observes. */
export interface LayerTap {
  readonly name: string;
  readonly kind: "linear" | "conv" | "matmul";
  /** The input activation(s): one for weighted layers, two for products of activations. */
  readonly inputs: readonly Value[];
  /** A convolution's output. */
  readonly output?: Value;
  /** Sum of squared weights per input channel: how much each channel's error reaches the output. */
  readonly inputImportance?: Float32Array;
  /** A linear layer with a LayerNorm in front: per-channel input scales fold into it for free. */
  readonly preNorm?: boolean;
}

/** Emits float32 layers and records a {@link LayerTap} for each. */
export class TappingLayers implements LayerEmitter {
  readonly taps: LayerTap[] = [];

  linear(g: GraphBuilder, input: Value, spec: LinearSpec): Value[] {
    // The layer's input is what it multiplies: after its LayerNorm, if it has one.
    const x = spec.inputNorm ? emitInputNorm(g, input, spec.inputNorm) : input;
    const importance = new Float32Array(spec.inFeatures);
    for (let i = 0; i < spec.weight.length; i++) {
      importance[Math.floor(i / spec.outFeatures)] += spec.weight[i] ** 2;
    }
    this.taps.push({
      name: spec.name,
      kind: "linear",
      inputs: [x],
      inputImportance: importance,
      preNorm: spec.inputNorm !== undefined,
    });
    return float32Layers.linear(g, x, { ...spec, inputNorm: undefined });
  }

  conv(g: GraphBuilder, x: Value, spec: ConvSpec): Value {
    const [out, inPerGroup, kh, kw] = spec.weight.shape;
    const importance = new Float32Array(inPerGroup * spec.group);
    const perChannel = inPerGroup * kh * kw;
    const outPerGroup = out / spec.group;
    spec.weight.data.forEach((w, i) => {
      const o = Math.floor(i / perChannel);
      importance[
        Math.floor(o / outPerGroup) * inPerGroup + Math.floor((i % perChannel) / (kh * kw))
      ] += w * w;
    });
    const y = float32Layers.conv(g, x, spec);
    this.taps.push({
      name: spec.name,
      kind: "conv",
      inputs: [x],
      output: y,
      inputImportance: importance,
    });
    return y;
  }

  matMul(g: GraphBuilder, name: string, a: Value, b: Value): Value {
    this.taps.push({ name, kind: "matmul", inputs: [a, b] });
    return float32Layers.matMul(g, name, a, b);
  }
}

/** Names under which tapped tensors are exposed as graph outputs. */
export function tapOutputName(tap: LayerTap, role: "input" | "inputB" | "output"): string {
  return `calibration/${tap.name}/${role}`;
}

/** Declares every tapped tensor as a graph output (shapes left to inference). */
export function exposeTaps(g: GraphBuilder, taps: readonly LayerTap[]): void {
  for (const tap of taps) {
    g.output(tap.inputs[0], tapOutputName(tap, "input"), "float32");
    if (tap.inputs[1]) g.output(tap.inputs[1], tapOutputName(tap, "inputB"), "float32");
    if (tap.output) g.output(tap.output, tapOutputName(tap, "output"), "float32");
  }
}

/**
 * Range and sampled rows of one tensor over all calibration runs. Channels are the last axis,
 * or axis 1 for NCHW tensors (convolutions).
 */
export class TensorStatistics {
  min = Infinity;
  max = -Infinity;
  channels = 0;
  /** Sum over all elements seen of x^2, per channel. */
  channelPower: Float64Array = new Float64Array(0);
  /** Per-channel extremes over everything seen. */
  channelMin: Float32Array = new Float32Array(0);
  channelMax: Float32Array = new Float32Array(0);
  rowsSeen = 0;
  readonly #sampledRows: Float32Array[] = [];

  constructor(readonly channelsFirst: boolean, readonly rowsPerRun: number) {}

  /** Adds one run's tensor; `run` varies which rows are sampled from run to run. */
  add(data: Float32Array, dims: readonly number[], run: number): void {
    const channels = this.channelsFirst ? dims[1] : dims[dims.length - 1];
    if (this.channels === 0) {
      this.channels = channels;
      this.channelPower = new Float64Array(channels);
      this.channelMin = new Float32Array(channels).fill(Infinity);
      this.channelMax = new Float32Array(channels).fill(-Infinity);
    }
    const rows = data.length / channels;
    const stride = this.channelsFirst ? 1 : channels;
    const step = this.channelsFirst ? rows : 1;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++) {
        const v = data[r * stride + c * step];
        this.channelPower[c] += v * v;
        if (v < this.channelMin[c]) this.channelMin[c] = v;
        if (v > this.channelMax[c]) this.channelMax[c] = v;
      }
    }
    this.rowsSeen += rows;
    const take = Math.min(rows, this.rowsPerRun);
    const phase = (run * 0.6180339887) % 1; // golden-ratio offsets spread the rows over runs
    for (let k = 0; k < take; k++) {
      const r = Math.min(rows - 1, Math.floor(((k + phase) * rows) / take));
      const row = new Float32Array(channels);
      for (let c = 0; c < channels; c++) row[c] = data[r * stride + c * step];
      this.#sampledRows.push(row);
    }
  }

  /** The sampled rows, concatenated (`rows x channels`). */
  samples(): Float32Array {
    const out = new Float32Array(this.#sampledRows.length * this.channels);
    this.#sampledRows.forEach((row, i) => out.set(row, i * this.channels));
    return out;
  }

  /** Mean square of each channel over everything seen. */
  meanChannelPower(): Float32Array {
    return Float32Array.from(this.channelPower, (p) => p / Math.max(1, this.rowsSeen));
  }
}

/** Statistics of every tapped tensor of one layer. */
export interface LayerStatistics {
  readonly tap: LayerTap;
  readonly input: TensorStatistics;
  readonly inputB?: TensorStatistics;
  readonly output?: TensorStatistics;
}

/** Creates empty statistics for each tap. */
export function emptyStatistics(taps: readonly LayerTap[], rowsPerRun: number): LayerStatistics[] {
  return taps.map((tap) => {
    const channelsFirst = tap.kind === "conv";
    return {
      tap,
      input: new TensorStatistics(channelsFirst, rowsPerRun),
      inputB: tap.inputs[1] ? new TensorStatistics(false, rowsPerRun) : undefined,
      output: tap.output ? new TensorStatistics(true, rowsPerRun) : undefined,
    };
  });
}

/** A session output: data and dims. */
export interface RunOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Adds one calibration run's outputs to the statistics. */
export function accumulateRun(
  statistics: readonly LayerStatistics[],
  outputs: Readonly<Record<string, RunOutput>>,
  run: number,
): void {
  for (const s of statistics) {
    const take = (role: "input" | "inputB" | "output", target?: TensorStatistics) => {
      if (!target) return;
      const out = outputs[tapOutputName(s.tap, role)];
      target.add(out.data, out.dims, run);
    };
    take("input", s.input);
    take("inputB", s.inputB);
    take("output", s.output);
  }
}
