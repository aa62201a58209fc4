import assert from "node:assert/strict";
import { countParameters, describeStateDict } from "../src/model/checkpoint/describe_checkpoint.ts";
import { parseCheckpoint, readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import type { HostTensor, StateDict } from "../src/model/tensor.ts";
import { assertRefused } from "./helpers/checkpoint_assert.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import {
  contiguousStride,
  FakeStorage,
  FakeTensor,
  stateDict,
  torchSaveZip,
} from "./helpers/torch_save.ts";

const CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

let cached: StateDict | undefined;
async function fixture(): Promise<StateDict> {
  cached ??= await readCheckpoint(CHECKPOINT);
  return cached;
}

function tensorOf(dict: StateDict, name: string): HostTensor {
  const found = dict.get(name);
  assert.ok(found, `fixture has no tensor ${name}`);
  return found;
}

Deno.test({
  name: "the TinySAM fixture has the vit_t layout: 439 tensors, about 10M parameters",
  ignore: !sharedAvailable,
  fn: async () => {
    const dict = await fixture();
    assert.equal(dict.size, 439);
    assert.equal(countParameters(dict), 10_140_231);
    const shapes: [string, number[]][] = [
      ["image_encoder.patch_embed.seq.0.c.weight", [32, 3, 3, 3]],
      ["image_encoder.patch_embed.seq.2.c.weight", [64, 32, 3, 3]],
      ["image_encoder.layers.1.blocks.0.attn.qkv.weight", [384, 128]],
      ["image_encoder.layers.2.blocks.5.mlp.fc1.weight", [640, 160]],
      ["image_encoder.layers.3.blocks.1.attn.attention_biases", [10, 49]],
      ["image_encoder.neck.0.weight", [256, 320, 1, 1]],
      ["image_encoder.neck.2.weight", [256, 256, 3, 3]],
      ["prompt_encoder.pe_layer.positional_encoding_gaussian_matrix", [2, 128]],
      ["mask_decoder.mask_tokens.weight", [4, 256]],
      ["mask_decoder.iou_token.weight", [1, 256]],
      ["mask_decoder.output_upscaling.0.weight", [256, 64, 2, 2]],
      ["image_encoder.patch_embed.seq.0.bn.num_batches_tracked", []],
    ];
    for (const [name, shape] of shapes) assert.deepEqual(tensorOf(dict, name).shape, shape, name);
    const stored = new Set([...dict.values()].map((t) => t.stored));
    assert.deepEqual([...stored].sort(), ["float32", "int64"]);
  },
});

Deno.test({
  name: "every float tensor of the fixture is finite and non-trivial (random, not constant)",
  ignore: !sharedAvailable,
  fn: async () => {
    for (const [name, t] of await fixture()) {
      if (t.dtype !== "float32") {
        assert.equal(t.shape.length, 0, `${name}: only num_batches_tracked is integer`);
        continue;
      }
      let min = Infinity;
      let max = -Infinity;
      for (const value of t.data) {
        assert.ok(Number.isFinite(value), `${name} has a non-finite value`);
        if (value < min) min = value;
        if (value > max) max = value;
      }
      if (t.data.length > 1) assert.ok(max > min, `${name} is constant (${min})`);
      else assert.notEqual(min, 0, `${name} is zero`);
    }
    // BatchNorm running variances must stay positive for the folding at build time.
    const variance = tensorOf(await fixture(), "image_encoder.patch_embed.seq.0.bn.running_var");
    assert.ok([...variance.data as Float32Array].every((v) => v > 0));
  },
});

Deno.test({
  name:
    "writing the fixture's tensors back the way torch.save does reproduces the file byte for byte",
  ignore: !sharedAvailable,
  fn: async () => {
    // Names, order, dtypes, shapes and every value read must be exactly what torch wrote.
    const dict = await fixture();
    const entries = [...dict].map(([name, t]) =>
      [
        name,
        new FakeTensor(new FakeStorage(t.stored, t.data), 0, t.shape, contiguousStride(t.shape)),
      ] as const
    );
    const rewritten = torchSaveZip(stateDict(entries), { archiveName: "tinysam_random" });
    const original = await Deno.readFile(CHECKPOINT);
    assert.equal(rewritten.length, original.length);
    const firstDifference = rewritten.findIndex((byte, i) => byte !== original[i]);
    assert.equal(firstDifference, -1, `first differing byte at ${firstDifference}`);
  },
});

Deno.test({
  name: "the fixture's key list reads one line per tensor: name, shape, stored dtype",
  ignore: !sharedAvailable,
  fn: async () => {
    const lines = describeStateDict(await fixture());
    assert.equal(lines.length, 439);
    assert.equal(lines[0], "image_encoder.patch_embed.seq.0.c.weight [32,3,3,3] float32");
    assert.ok(lines.includes("image_encoder.patch_embed.seq.0.bn.num_batches_tracked [] int64"));
    for (const line of lines) assert.match(line, /^\S+ \[[\d,]*\] (float32|int64)$/);
  },
});

Deno.test({
  name: "the fixture cut short anywhere is refused with one line",
  ignore: !sharedAvailable,
  fn: async () => {
    const original = await Deno.readFile(CHECKPOINT);
    for (const fraction of [0.0001, 0.001, 0.25, 0.5, 0.9, 0.999, 0.99999]) {
      const cut = original.subarray(0, Math.floor(original.length * fraction));
      assertRefused(
        () => parseCheckpoint(cut, "tinysam_random.pth"),
        "tinysam_random.pth",
        /truncated or corrupt zip archive/,
      );
    }
  },
});
