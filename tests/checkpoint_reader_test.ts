import assert from "node:assert/strict";
import { unzipSync, zipSync } from "fflate";
import { parseCheckpoint, readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import type { HostTensor, StateDict } from "../src/model/tensor.ts";
import { pickle, PyDict, PyFloat, PyGlobal, PyReduce, PyTuple } from "./helpers/pickle_writer.ts";
import {
  FakeStorage,
  FakeTensor,
  stateDict,
  tensor,
  torchSaveLegacy,
  torchSaveZip,
} from "./helpers/torch_save.ts";
import { writeTorchZip } from "./helpers/zip_writer.ts";

function get(dict: StateDict, name: string): HostTensor {
  const found = dict.get(name);
  assert.ok(found, `tensor ${name} is missing; have ${[...dict.keys()].join(", ")}`);
  return found;
}

function floats(t: HostTensor): number[] {
  assert.equal(t.dtype, "float32");
  return [...(t.data as Float32Array)];
}

function ints(t: HostTensor): bigint[] {
  assert.equal(t.dtype, "int64");
  return [...(t.data as BigInt64Array)];
}

Deno.test("zip checkpoint: float32 and int64 tensors keep names, order, shapes and values", () => {
  const bytes = torchSaveZip(stateDict([
    ["conv.weight", tensor("float32", [2, 3], [0.5, -1.25, 3, 1e-8, -0, 42])],
    ["bn.num_batches_tracked", tensor("int64", [], [123456789012345n])],
    ["ids", tensor("int64", [3], [-1n, 0n, 9007199254740993n])],
  ]));
  const dict = parseCheckpoint(bytes, "small.pth");
  assert.deepEqual([...dict.keys()], ["conv.weight", "bn.num_batches_tracked", "ids"]);
  const weight = get(dict, "conv.weight");
  assert.deepEqual(weight.shape, [2, 3]);
  assert.equal(weight.stored, "float32");
  assert.deepEqual(floats(weight), [0.5, -1.25, 3, Math.fround(1e-8), -0, 42]);
  const tracked = get(dict, "bn.num_batches_tracked");
  assert.deepEqual(tracked.shape, []);
  assert.deepEqual(ints(tracked), [123456789012345n]);
  assert.deepEqual(ints(get(dict, "ids")), [-1n, 0n, 9007199254740993n]);
});

Deno.test("float16 tensors are widened to float32 exactly, including subnormals and infinities", () => {
  const values = [1, -2.5, 2 ** -14, 2 ** -24, 65504, -Infinity, 0.333251953125, -0];
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([["half", tensor("float16", [2, 4], values)]])),
    "half.pth",
  );
  const half = get(dict, "half");
  assert.equal(half.stored, "float16");
  assert.deepEqual(half.shape, [2, 4]);
  assert.deepEqual(floats(half), values.map(Math.fround));
});

Deno.test("bfloat16 tensors are widened to float32 exactly", () => {
  const values = [1, -3.140625, 2 ** -130, 3.3895313892515355e38, 0.0078125, -65536];
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([["bf", tensor("bfloat16", [3, 2], values)]])),
    "bf.pth",
  );
  const bf = get(dict, "bf");
  assert.equal(bf.stored, "bfloat16");
  assert.deepEqual(floats(bf), values);
});

Deno.test("float64, int32, uint8, int8 and bool are widened, and `stored` keeps the original", () => {
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([
      ["f64", tensor("float64", [2], [0.1, -1e300])],
      ["i32", tensor("int32", [2], [-2147483648, 7])],
      ["u8", tensor("uint8", [2], [0, 255])],
      ["i8", tensor("int8", [2], [-128, 127])],
      ["mask", tensor("bool", [3], [1, 0, 1])],
    ])),
    "mixed.pth",
  );
  assert.deepEqual(floats(get(dict, "f64")), [Math.fround(0.1), -Infinity]);
  assert.deepEqual(ints(get(dict, "i32")), [-2147483648n, 7n]);
  assert.deepEqual(ints(get(dict, "u8")), [0n, 255n]);
  assert.deepEqual(ints(get(dict, "i8")), [-128n, 127n]);
  assert.deepEqual(ints(get(dict, "mask")), [1n, 0n, 1n]);
  assert.deepEqual(
    [...dict.values()].map((t) => t.stored),
    ["float64", "int32", "uint8", "int8", "bool"],
  );
});

Deno.test("non-contiguous views and storage offsets are copied out in row-major order", () => {
  // storage 0..11 viewed as a 3x4 matrix; its transpose (stride [1, 4]); a column slice
  // starting at element 1 (offset 1, stride [4]); an expanded row (stride 0).
  const storage = new FakeStorage("float32", Array.from({ length: 12 }, (_, i) => i));
  const half = new FakeStorage("float16", Array.from({ length: 12 }, (_, i) => i / 4));
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([
      ["transposed", new FakeTensor(storage, 0, [4, 3], [1, 4])],
      ["column", new FakeTensor(storage, 1, [3], [4])],
      ["block", new FakeTensor(storage, 5, [2, 2], [4, 1])],
      ["expanded", new FakeTensor(storage, 8, [2, 3], [0, 1])],
      ["half_transposed", new FakeTensor(half, 2, [2, 2], [1, 6])],
    ])),
    "views.pth",
  );
  assert.deepEqual(floats(get(dict, "transposed")), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual(get(dict, "transposed").shape, [4, 3]);
  assert.deepEqual(floats(get(dict, "column")), [1, 5, 9]);
  assert.deepEqual(floats(get(dict, "block")), [5, 6, 9, 10]);
  assert.deepEqual(floats(get(dict, "expanded")), [8, 9, 10, 8, 9, 10]);
  assert.deepEqual(floats(get(dict, "half_transposed")), [0.5, 2, 0.75, 2.25]);
});

Deno.test("tensors sharing one storage each get their own independent data", () => {
  const storage = new FakeStorage("float32", [1, 2, 3, 4, 5, 6]);
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([
      ["qkv.weight", new FakeTensor(storage, 0, [6], [1])],
      ["q.weight", new FakeTensor(storage, 0, [2], [1])],
      ["v.weight", new FakeTensor(storage, 4, [2], [1])],
    ])),
    "shared.pth",
  );
  const qkv = get(dict, "qkv.weight").data as Float32Array;
  const q = get(dict, "q.weight").data as Float32Array;
  assert.deepEqual([...q], [1, 2]);
  assert.deepEqual([...get(dict, "v.weight").data], [5, 6]);
  q[0] = 100;
  assert.equal(qkv[0], 1, "writing one tensor changed another that shares its storage");
});

Deno.test("a state dict nested under 'model' or 'state_dict' (beside other entries) is unwrapped", () => {
  const weights = () => stateDict([["layer.weight", tensor("float32", [2], [1, 2])]]);
  const checkpoints: [string, PyDict][] = [
    ["model", new PyDict([["model", weights()], ["epoch", 12]])],
    [
      "state_dict",
      new PyDict([
        ["epoch", 3],
        ["optimizer", new PyDict([["lr", 0.001], ["betas", new PyTuple([0.9, 0.999])]])],
        ["state_dict", weights()],
      ]),
    ],
    ["model.state_dict", new PyDict([["model", new PyDict([["state_dict", weights()]])]])],
  ];
  for (const [label, checkpoint] of checkpoints) {
    const dict = parseCheckpoint(torchSaveZip(checkpoint), `${label}.pth`);
    assert.deepEqual([...dict.keys()], ["layer.weight"], label);
    assert.deepEqual(floats(get(dict, "layer.weight")), [1, 2], label);
  }
});

Deno.test("the 'module.' prefix of DataParallel checkpoints is removed", () => {
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([
      ["module.image_encoder.neck.0.weight", tensor("float32", [1], [7])],
      ["module.mask_decoder.iou_token.weight", tensor("float32", [1], [8])],
    ])),
    "ddp.pth",
  );
  assert.deepEqual([...dict.keys()], [
    "image_encoder.neck.0.weight",
    "mask_decoder.iou_token.weight",
  ]);
});

Deno.test("an OrderedDict state dict with _metadata (what module.state_dict() saves) is read", () => {
  const metadata = new PyDict(
    [["", new PyDict([["version", 1]])], ["encoder", new PyDict([["version", 1]])]],
    true,
  );
  const bytes = torchSaveZip(
    new PyDict(
      [["encoder.weight", tensor("float32", [1, 1], [0.25])]],
      true,
      new PyDict([[
        "_metadata",
        metadata,
      ]]),
    ),
  );
  assert.deepEqual(floats(get(parseCheckpoint(bytes, "od.pth"), "encoder.weight")), [0.25]);
});

Deno.test("nn.Parameter entries (saved through _rebuild_parameter) are read as tensors", () => {
  const parameter = new FakeTensor(new FakeStorage("float32", [3, 4]), 0, [2], [1], true);
  const dict = parseCheckpoint(torchSaveZip(stateDict([["p", parameter]])), "param.pth");
  assert.deepEqual(floats(get(dict, "p")), [3, 4]);
});

Deno.test("non-tensor entries in a state dict (e.g. _extra_state) are skipped", () => {
  const bytes = torchSaveZip(
    new PyDict([["w", tensor("float32", [1], [1])], ["w._extra_state", new PyFloat(2)]]),
  );
  assert.deepEqual([...parseCheckpoint(bytes, "extra.pth").keys()], ["w"]);
});

Deno.test("a big-endian zip checkpoint (byteorder record 'big') is byte-swapped", () => {
  const bytes = torchSaveZip(
    stateDict([
      ["f", tensor("float32", [2], [1.5, -2])],
      ["h", tensor("float16", [2], [0.5, 3])],
      ["l", tensor("int64", [1], [-5n])],
    ]),
    { byteorder: "big" },
  );
  const dict = parseCheckpoint(bytes, "big.pth");
  assert.deepEqual(floats(get(dict, "f")), [1.5, -2]);
  assert.deepEqual(floats(get(dict, "h")), [0.5, 3]);
  assert.deepEqual(ints(get(dict, "l")), [-5n]);
  const little = parseCheckpoint(
    torchSaveZip(stateDict([["f", tensor("float32", [1], [1.5])]]), { byteorder: "little" }),
    "little.pth",
  );
  assert.deepEqual(floats(get(little, "f")), [1.5]);
});

Deno.test("a protocol 4 pickle (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE) is read", () => {
  const bytes = torchSaveZip(
    stateDict([["a", tensor("float32", [2], [1, 2])], ["b", tensor("float16", [1], [4])]]),
    { protocol: 4, archiveName: "some_name" },
  );
  const dict = parseCheckpoint(bytes, "p4.pth");
  assert.deepEqual(floats(get(dict, "a")), [1, 2]);
  assert.deepEqual(floats(get(dict, "b")), [4]);
});

Deno.test("a zip checkpoint whose records were re-compressed with deflate is read", () => {
  const original = torchSaveZip(stateDict([["w", tensor("float32", [64], new Array(64).fill(3))]]));
  const recompressed = zipSync(unzipSync(original), { level: 6 });
  assert.ok(recompressed.length < original.length);
  assert.deepEqual(
    floats(get(parseCheckpoint(recompressed, "deflated.pth"), "w")),
    new Array(64).fill(3),
  );
});

Deno.test("legacy (non-zip) checkpoints: dtypes, views, shared storages and nesting", () => {
  const storage = new FakeStorage("float32", [0, 1, 2, 3, 4, 5]);
  const bytes = torchSaveLegacy(
    new PyDict([
      ["epoch", 7],
      [
        "state_dict",
        stateDict([
          ["module.weight", new FakeTensor(storage, 0, [3, 2], [1, 3])],
          ["module.bias", new FakeTensor(storage, 4, [2], [1])],
          ["module.half", tensor("float16", [2], [0.5, -1])],
          ["module.bf", tensor("bfloat16", [1], [2.5])],
          ["module.steps", tensor("int64", [], [9n])],
        ], true),
      ],
    ]),
  );
  assert.equal(bytes[0], 0x80);
  const dict = parseCheckpoint(bytes, "legacy.pth");
  assert.deepEqual([...dict.keys()], ["weight", "bias", "half", "bf", "steps"]);
  assert.deepEqual(floats(get(dict, "weight")), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(floats(get(dict, "bias")), [4, 5]);
  assert.deepEqual(floats(get(dict, "half")), [0.5, -1]);
  assert.deepEqual(floats(get(dict, "bf")), [2.5]);
  assert.deepEqual(ints(get(dict, "steps")), [9n]);
  assert.deepEqual(get(dict, "steps").shape, []);
});

Deno.test("readCheckpoint reads a checkpoint file from disk", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/tiny.pth`;
    await Deno.writeFile(path, torchSaveZip(stateDict([["w", tensor("float16", [1], [1])]])));
    const dict = await readCheckpoint(path);
    assert.deepEqual(floats(get(dict, "w")), [1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("empty tensors (a zero-sized dimension) are read with their shape", () => {
  const dict = parseCheckpoint(
    torchSaveZip(stateDict([["empty", tensor("float32", [0, 3], [])]])),
    "empty.pth",
  );
  assert.deepEqual(get(dict, "empty").shape, [0, 3]);
  assert.equal(get(dict, "empty").data.length, 0);
});

Deno.test("_rebuild_tensor_v3 over an UntypedStorage and _rebuild_from_type_v2 are read", () => {
  const untyped = {}; // stands for a torch.UntypedStorage of 16 bytes
  const args = (dtype: string, offset: number) =>
    new PyTuple([
      untyped,
      offset,
      new PyTuple([2]),
      new PyTuple([1]),
      false,
      new PyDict([], true),
      new PyGlobal("torch", dtype),
    ]);
  const v3 = new PyGlobal("torch._utils", "_rebuild_tensor_v3");
  const data = pickle(
    new PyDict([
      ["as_float", new PyReduce(v3, args("float32", 2))],
      ["as_half", new PyReduce(v3, args("float16", 1))],
      [
        "subclass",
        new PyReduce(
          new PyGlobal("torch._tensor", "_rebuild_from_type_v2"),
          new PyTuple([v3, new PyGlobal("torch", "Tensor"), args("float32", 0), new PyDict([])]),
        ),
      ],
    ]),
    {
      persistentId: (value) =>
        value === untyped
          ? new PyTuple(["storage", new PyGlobal("torch", "UntypedStorage"), "0", "cpu", 16])
          : undefined,
    },
  );
  const elements = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  const dict = parseCheckpoint(
    writeTorchZip([
      ["archive/data.pkl", data],
      ["archive/data/0", elements],
      ["archive/version", new TextEncoder().encode("3\n")],
    ]),
    "v3.pth",
  );
  assert.deepEqual(floats(get(dict, "as_float")), [3, 4]);
  // float32 1.0 is 0x3f800000: as float16 halves at element offset 1 that is [0x3f80, 0x0000].
  assert.deepEqual(floats(get(dict, "as_half")), [1.875, 0]);
  assert.equal(get(dict, "as_half").stored, "float16");
  assert.deepEqual(floats(get(dict, "subclass")), [1, 2]);
});
