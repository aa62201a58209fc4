/**
 * Quantized graphs: each quantized layer stays within the error its scales imply, the int8
 * encoder builds deterministically and runs, and bad calibration sources fail clearly.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import { GraphBuilder, type Value } from "../src/model/onnx/graph.ts";
import { activationQuant, roundHalfEven } from "../src/model/quant/affine.ts";
import {
  CalibrationError,
  calibrationFiles,
  sampleCalibrationFrames,
} from "../src/model/quant/calibration_frames.ts";
import { weightLevelsForThisCpu } from "../src/model/quant/cpu_features.ts";
import { QdqLayers, type QuantizationPlan } from "../src/model/quant/qdq_layers.ts";
import { buildInt8Encoder } from "../src/model/quant/quantize_model.ts";
import { searchChannelRanges } from "../src/model/quant/range_search.ts";
import { type ConvSpec, emitInputNorm, type LinearSpec } from "../src/model/tinysam/layers.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
}

async function runOne(
  build: (g: GraphBuilder, x: Value) => Value,
  input: Float32Array,
  dims: number[],
) {
  const g = new GraphBuilder("one_layer");
  const x = g.input("x", "float32", dims);
  g.output(build(g, x), "y", "float32");
  const session = await ort.InferenceSession.create(g.toModel({ opset: 17 }));
  try {
    return (await session.run({ x: new ort.Tensor("float32", input, dims) })).y
      .data as Float32Array;
  } finally {
    await session.release();
  }
}

Deno.test("a quantized linear layer matches its float version within the error its scales imply", async () => {
  const random = seeded(7);
  const [rows, k, n] = [64, 48, 40];
  const weight = Float32Array.from({ length: k * n }, () => random() * 0.4);
  const bias = Float32Array.from({ length: n }, () => random());
  // Channels of very different ranges, as LayerNorm outputs have.
  const input = Float32Array.from({ length: rows * k }, (_, i) => random() * (0.5 + (i % k) * 0.3));
  const spec: LinearSpec = { name: "fc", weight, inFeatures: k, outFeatures: n, bias };
  let lo = Infinity, hi = -Infinity;
  const channelMin = new Float32Array(k).fill(Infinity),
    channelMax = new Float32Array(k).fill(-Infinity);
  input.forEach((v, i) => {
    lo = Math.min(lo, v), hi = Math.max(hi, v);
    channelMin[i % k] = Math.min(channelMin[i % k], v),
      channelMax[i % k] = Math.max(channelMax[i % k], v);
  });
  const perTensor = activationQuant(lo, hi);
  const perChannel = searchChannelRanges(input, k, channelMin, channelMax);
  for (
    const [form, plan] of [
      ["per-tensor", new Map([["fc", { input: perTensor }]])],
      ["per-channel", new Map([["fc", { input: perTensor, inputChannels: perChannel }]])],
    ] as const
  ) {
    const quantized = await runOne(
      (g, x) => new QdqLayers(plan, 127).linear(g, x, spec)[0],
      input,
      [
        rows,
        k,
      ],
    );
    // The weights quantized are W' = diag(s) W (s = 1 per tensor), per output column: the
    // weight step of column j is at most max_i |W'_ij| / 127.
    const inputStep = (
      i: number,
    ) => (form === "per-channel" ? perChannel.scales[i] : perTensor.scale);
    const rowScale = (i: number) => (form === "per-channel" ? perChannel.scales[i] : 1);
    const weightStep = new Float32Array(n);
    for (let i = 0; i < k * n; i++) {
      const j = i % n;
      weightStep[j] = Math.max(
        weightStep[j],
        Math.abs(weight[i] * rowScale(Math.floor(i / n))) / 127,
      );
    }
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        let exact = bias[j], bound = 1e-4;
        for (let i = 0; i < k; i++) {
          const x = input[r * k + i];
          exact += x * weight[i * n + j];
          // |x w - x' w'| <= |x - x'| |w| + |x' / s_i| |W'_ij - quantized W'_ij|
          bound += (inputStep(i) / 2) * Math.abs(weight[i * n + j]) +
            ((Math.abs(x) + inputStep(i)) / rowScale(i)) * (weightStep[j] / 2);
        }
        const error = Math.abs(quantized[r * n + j] - exact);
        assert.ok(error <= bound, `${form} row ${r} col ${j}: error ${error} > bound ${bound}`);
      }
    }
  }
});

Deno.test("a quantized pre-norm linear layer folds its channel scales into the LayerNorm and splits its outputs without changing them", async () => {
  const random = seeded(11);
  const [rows, k, n] = [32, 24, 36];
  const weight = Float32Array.from({ length: k * n }, () => random() * 0.4);
  const bias = Float32Array.from({ length: n }, () => random());
  const norm = {
    weight: Float32Array.from({ length: k }, (_, i) => 0.2 + i * 0.15),
    bias: Float32Array.from({ length: k }, () => random()),
    epsilon: 1e-5,
  };
  const input = Float32Array.from({ length: rows * k }, () => random() * 3);
  // The LayerNorm's output, computed here, to calibrate on.
  const normed = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const row = input.subarray(r * k, (r + 1) * k);
    const mean = row.reduce((a, b) => a + b, 0) / k;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / k;
    row.forEach((v, i) => {
      normed[r * k + i] = ((v - mean) / Math.sqrt(variance + 1e-5)) * norm.weight[i] + norm.bias[i];
    });
  }
  const channelMin = new Float32Array(k).fill(Infinity),
    channelMax = new Float32Array(k).fill(-Infinity);
  normed.forEach((v, i) => {
    channelMin[i % k] = Math.min(channelMin[i % k], v);
    channelMax[i % k] = Math.max(channelMax[i % k], v);
  });
  const plan: QuantizationPlan = new Map([["fc", {
    input: activationQuant(Math.min(...channelMin), Math.max(...channelMax)),
    inputChannels: searchChannelRanges(normed, k, channelMin, channelMax),
  }]]);
  const layers = new QdqLayers(plan, 127);
  const spec: LinearSpec = { name: "fc", weight, inFeatures: k, outFeatures: n, bias };
  const dims = [rows, k];

  let mulNodes = -1;
  const folded = await runOne(
    (g, x) => {
      const [a, b] = layers.linear(g, x, { ...spec, inputNorm: norm, outputGroups: [12, 24] });
      mulNodes = g.opCounts().get("Mul") ?? 0;
      return g.node("Concat", [a, b], { axis: 1 });
    },
    input,
    dims,
  );
  const separate = await runOne(
    (g, x) => layers.linear(g, emitInputNorm(g, x, norm), spec)[0],
    input,
    dims,
  );
  assert.equal(mulNodes, 0, "no per-channel Mul is left in front of the quantizer");
  const scale = Math.max(...separate.map(Math.abs));
  separate.forEach((v, i) => {
    assert.ok(Math.abs(folded[i] - v) <= 1e-5 * scale, `output ${i}: ${folded[i]} vs ${v}`);
  });
});

Deno.test("a quantized convolution matches its float version within the error its scales imply", async () => {
  const random = seeded(11);
  const [c, o, h, w] = [6, 5, 9, 9];
  const weightData = Float32Array.from({ length: o * c * 9 }, () => random() * 0.5);
  const bias = Float32Array.from({ length: o }, () => random());
  const input = Float32Array.from({ length: c * h * w }, () => random() * 4);
  const spec: ConvSpec = {
    name: "conv",
    weight: { shape: [o, c, 3, 3], data: weightData },
    bias,
    kernel: 3,
    stride: 1,
    pad: 1,
    group: 1,
  };
  const inputQuant = activationQuant(-2, 2);
  // The float output, to size the output quantizer.
  const float = await runOne((g, x) => new QdqLayers(new Map(), 127).conv(g, x, spec), input, [
    1,
    c,
    h,
    w,
  ]);
  let lo = Infinity, hi = -Infinity;
  for (const v of float) lo = Math.min(lo, v), hi = Math.max(hi, v);
  const outputQuant = activationQuant(lo, hi);
  const plan: QuantizationPlan = new Map([["conv", { input: inputQuant, output: outputQuant }]]);
  const quantized = await runOne((g, x) => new QdqLayers(plan, 127).conv(g, x, spec), input, [
    1,
    c,
    h,
    w,
  ]);
  const perChannel = c * 9;
  for (let oc = 0; oc < o; oc++) {
    let maxW = 0, sumW = 0;
    for (let i = 0; i < perChannel; i++) {
      maxW = Math.max(maxW, Math.abs(weightData[oc * perChannel + i]));
      sumW += Math.abs(weightData[oc * perChannel + i]);
    }
    // Input step, weight step (times the largest |input| a tap sees), bias rounding, output step.
    const bound = (inputQuant.scale / 2) * sumW +
      (2 + inputQuant.scale) * perChannel * (maxW / 127 / 2) +
      inputQuant.scale * (maxW / 127) + outputQuant.scale / 2 + 1e-4;
    for (let p = 0; p < h * w; p++) {
      const error = Math.abs(quantized[oc * h * w + p] - float[oc * h * w + p]);
      assert.ok(error <= bound, `channel ${oc} pixel ${p}: error ${error} > bound ${bound}`);
    }
  }
});

Deno.test("per-channel input ranges give each channel its own resolution with a shared zero point", () => {
  const channels = 3;
  const samples = new Float32Array(300);
  for (let r = 0; r < 100; r++) {
    samples[r * 3] = (r - 50) * 0.01; // range about [-0.5, 0.5]
    samples[r * 3 + 1] = r * 1.0; // [0, 99]
    samples[r * 3 + 2] = -r * 0.1; // [-9.9, 0]
  }
  const min = Float32Array.of(-0.5, 0, -9.9), max = Float32Array.of(0.49, 99, 0);
  const q = searchChannelRanges(samples, channels, min, max);
  assert.equal(q.scales.length, 3);
  assert.ok(
    q.scales[1] > 20 * q.scales[0],
    "the wide channel gets a coarser scale than the narrow one",
  );
  for (let r = 0; r < 100; r++) {
    for (let c = 0; c < channels; c++) {
      const x = samples[r * 3 + c];
      const level = Math.min(255, Math.max(0, roundHalfEven(x / q.scales[c]) + q.zeroPoint));
      const error = Math.abs((level - q.zeroPoint) * q.scales[c] - x);
      assert.ok(
        error <= q.scales[c] * 0.5 + 1e-6 || error <= 0.05 * (max[c] - min[c]),
        `channel ${c}: error ${error}`,
      );
    }
  }
});

Deno.test("the int8 weight range follows the CPU: 127 levels with VNNI, 63 without", () => {
  const arch = Deno.build.arch;
  if (arch !== "x86_64") return;
  assert.equal(weightLevelsForThisCpu("flags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"), 127);
  assert.equal(weightLevelsForThisCpu("flags\t\t: fpu sse2 avx2 avx_vnni\n"), 127);
  assert.equal(weightLevelsForThisCpu("flags\t\t: fpu sse2 avx2 avx512f\n"), 63);
});

Deno.test("calibration from an empty directory, a missing path or an unreadable file fails with one clear line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      calibrationFiles(dir),
      (e: Error) => e instanceof CalibrationError && /is empty/.test(e.message),
    );
    await assert.rejects(
      calibrationFiles(`${dir}/nope`),
      (e: Error) => e instanceof CalibrationError && /does not exist/.test(e.message),
    );
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a video\n");
    const files = await calibrationFiles(dir);
    await assert.rejects(sampleCalibrationFrames(files, 4), (e: Error) => {
      assert.ok(e instanceof CalibrationError);
      assert.match(e.message, /no readable video or image to calibrate on: .*notes\.txt/);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model:build --precision int8 with an empty calibration directory exits 1 with one line and builds nothing", async () => {
  if (!sharedAvailable) return;
  const cache = await Deno.makeTempDir();
  const empty = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "src/cli/model.ts",
        "build",
        "--checkpoint",
        `${FIXTURE_DIR}/tinysam_random.pth`,
        "--precision",
        "int8",
        "--calibration",
        empty,
      ],
      env: { TINYSAM_CACHE_DIR: cache, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 1);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.match(stderr, /calibration directory .* is empty/);
    for await (const entry of Deno.readDir(cache)) {
      if (!entry.isDirectory) continue;
      for await (const file of Deno.readDir(`${cache}/${entry.name}`)) {
        assert.ok(!file.name.includes("int8"), file.name);
      }
    }
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test({
  name:
    "the int8 encoder builds deterministically from the same calibration frames, loads and runs",
  ignore: !sharedAvailable,
  async fn() {
    const dict = await readCheckpoint(`${FIXTURE_DIR}/tinysam_random.pth`);
    const frames = await sampleCalibrationFrames(
      await calibrationFiles("samples/occlusion/video.mp4"),
      2,
    );
    const build = () =>
      buildInt8Encoder(dict, {
        calibrationFrames: frames,
        weightLevels: 127,
        threads: 1,
        rowsPerRun: 64,
      });
    const first = await build();
    const second = await build();
    assert.equal(first.model.length, second.model.length);
    assert.ok(first.model.every((byte, i) => byte === second.model[i]), "same inputs, same bytes");
    assert.ok(first.quantizedLayers.length >= 40);
    const session = await ort.InferenceSession.create(first.model, { intraOpNumThreads: 1 });
    try {
      const pixels = new Float32Array(3 * 1024 * 1024).map((_, i) => Math.sin(i * 1e-3));
      const out = await session.run({
        pixels: new ort.Tensor("float32", pixels, [1, 3, 1024, 1024]),
      });
      assert.deepEqual(out.image_embeddings.dims, [1, 256, 64, 64]);
      assert.ok((out.image_embeddings.data as Float32Array).every(Number.isFinite));
    } finally {
      await session.release();
    }
  },
});
