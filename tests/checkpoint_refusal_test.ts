import assert from "node:assert/strict";
import { zipSync } from "fflate";
import { CheckpointError } from "../src/model/checkpoint/errors.ts";
import { parseCheckpoint, readCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import { assertRefused, assertRefusedAsync } from "./helpers/checkpoint_assert.ts";
import { pickle, PyDict, PyGlobal, PyReduce, PyTuple } from "./helpers/pickle_writer.ts";
import {
  FakeStorage,
  FakeTensor,
  stateDict,
  tensor,
  torchSaveLegacy,
  torchSaveZip,
  torchZipRecords,
} from "./helpers/torch_save.ts";
import { writeTorchZip } from "./helpers/zip_writer.ts";

const encoder = new TextEncoder();

function small(): PyDict {
  return stateDict([
    ["a.weight", tensor("float32", [2, 2], [1, 2, 3, 4])],
    ["a.half", tensor("float16", [3], [1, 2, 3])],
    ["a.steps", tensor("int64", [], [5n])],
  ]);
}

/** A state dict whose one entry is `module.name(*args)`, pickled as torch.save would. */
function calling(module: string, name: string, args: unknown[], protocol: 2 | 4 = 2): Uint8Array {
  return torchSaveZip(
    new PyDict([
      ["w", tensor("float32", [1], [1])],
      ["evil", new PyReduce(new PyGlobal(module, name), new PyTuple(args as string[]))],
    ]),
    { protocol },
  );
}

Deno.test("a pickle calling os.system through REDUCE is refused by name and runs nothing", async () => {
  const marker = `${await Deno.makeTempDir()}/pwned`;
  const message = assertRefused(
    () => parseCheckpoint(calling("os", "system", [`touch ${marker}`]), "evil.pth"),
    "evil.pth",
    /refused global 'os\.system'.*\(archive\/data\.pkl, byte \d+\)$/,
  );
  assert.match(message, /may only name torch tensor, storage and state-dict types/);
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
});

Deno.test("builtins.eval is refused, whether named by GLOBAL (protocol 2) or STACK_GLOBAL (4)", () => {
  assertRefused(
    () => parseCheckpoint(calling("builtins", "eval", ["1+1"], 2), "eval2.pth"),
    "eval2.pth",
    /refused global '__builtin__\.eval'/,
  );
  assertRefused(
    () => parseCheckpoint(calling("builtins", "eval", ["1+1"], 4), "eval4.pth"),
    "eval4.pth",
    /refused global 'builtins\.eval'/,
  );
});

Deno.test("other code-running globals are refused by name", () => {
  const cases: [string, string][] = [
    ["subprocess", "Popen"],
    ["posix", "system"],
    ["__builtin__", "exec"],
    ["shutil", "rmtree"],
    ["torch", "load"],
    ["torch.serialization", "load"],
    ["numpy.core.multiarray", "_reconstruct"],
    ["collections", "defaultdict"],
  ];
  for (const [module, name] of cases) {
    const qualified = `${module}.${name}`.replace(/\./g, "\\.");
    assertRefused(
      () => parseCheckpoint(calling(module, name, ["x"]), "bad.pth"),
      "bad.pth",
      new RegExp(`refused global '${qualified}'`),
    );
  }
});

Deno.test("a forbidden global hidden in a tensor's backward hooks is refused", () => {
  const hook = new PyReduce(new PyGlobal("os", "system"), new PyTuple(["id"]));
  const rebuilt = new PyReduce(
    new PyGlobal("torch._utils", "_rebuild_tensor_v2"),
    new PyTuple([
      new FakeStorage("float32", [1]),
      0,
      new PyTuple([1]),
      new PyTuple([1]),
      false,
      hook,
    ]),
  );
  assertRefused(
    () => parseCheckpoint(torchSaveZip(new PyDict([["w", rebuilt]])), "hooks.pth"),
    "hooks.pth",
    /refused global 'os\.system'/,
  );
});

Deno.test("a forbidden global in a legacy checkpoint is refused, naming the pickle it is in", () => {
  const bytes = torchSaveLegacy(
    new PyDict([["w", new PyReduce(new PyGlobal("os", "system"), new PyTuple(["id"]))]]),
  );
  assertRefused(
    () => parseCheckpoint(bytes, "legacy_evil.pth"),
    "legacy_evil.pth",
    /refused global 'os\.system'.*\(object pickle, byte \d+\)$/,
  );
});

Deno.test("a whole pickled nn.Module (torch.save(model)) is refused by its class name", () => {
  const module = new PyReduce(
    new PyGlobal("tinysam.modeling.sam", "Sam"),
    new PyTuple([]),
  );
  assertRefused(
    () => parseCheckpoint(torchSaveZip(module), "model.pth"),
    "model.pth",
    /refused global 'tinysam\.modeling\.sam\.Sam'/,
  );
});

Deno.test("an allowed global used in a way a state dict never does is refused", () => {
  // REDUCE on a storage class (not a function), and a storage type where a dtype belongs.
  const callStorage = torchSaveZip(
    new PyDict([["w", new PyReduce(new PyGlobal("torch", "FloatStorage"), new PyTuple([3]))]]),
  );
  assertRefused(
    () => parseCheckpoint(callStorage, "call.pth"),
    "call.pth",
    /REDUCE applied to global torch\.FloatStorage, which is not callable/,
  );
  const notStorage = torchSaveZip(
    new PyDict([[
      "w",
      new PyReduce(
        new PyGlobal("torch._utils", "_rebuild_tensor_v2"),
        new PyTuple([
          "storage",
          0,
          new PyTuple([1]),
          new PyTuple([1]),
          false,
          new PyDict([], true),
        ]),
      ),
    ]]),
  );
  assertRefused(
    () => parseCheckpoint(notStorage, "arg.pth"),
    "arg.pth",
    /_rebuild_tensor_v2 needs a storage, got str/,
  );
});

Deno.test("an empty file, random bytes and a PNG are refused as not a checkpoint", async () => {
  assertRefused(() => parseCheckpoint(new Uint8Array(), "empty.pth"), "empty.pth", /empty file/);
  let seed = 12345;
  const random = Uint8Array.from({ length: 4096 }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed >> 16 & 0xff;
  });
  random[0] = 0x13; // not 'P' nor PROTO, whatever the generator says
  assertRefused(
    () => parseCheckpoint(random, "random.pth"),
    "random.pth",
    /^random\.pth: not a PyTorch checkpoint \(no zip or legacy pickle header\)$/,
  );
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  assertRefused(() => parseCheckpoint(png, "image.png"), "image.png", /not a PyTorch checkpoint/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty.pth`, new Uint8Array());
    await assertRefusedAsync(() => readCheckpoint(`${dir}/empty.pth`), `${dir}/empty.pth`, /empty/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing file and a directory are refused with one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRefusedAsync(
      () => readCheckpoint(`${dir}/nope.pth`),
      `${dir}/nope.pth`,
      /no such file/,
    );
    await assertRefusedAsync(() => readCheckpoint(dir), dir, /is a directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plain pickle that is not a torch checkpoint is refused", () => {
  assertRefused(
    () => parseCheckpoint(pickle(new PyDict([["a", 1]])), "plain.pkl"),
    "plain.pkl",
    /not a PyTorch checkpoint \(a pickle, but without torch's magic number\)/,
  );
});

Deno.test("a zip that is not a torch checkpoint (no data.pkl) is refused", () => {
  const zip = zipSync({ "readme.txt": encoder.encode("hello") });
  assertRefused(() => parseCheckpoint(zip, "other.zip"), "other.zip", /no data\.pkl record/);
});

Deno.test("a truncated zip checkpoint is refused at every cut, never with another error", () => {
  const whole = torchSaveZip(small());
  assert.ok(parseCheckpoint(whole, "whole.pth").size === 3);
  for (let length = 1; length < whole.length; length++) {
    assertRefused(() => parseCheckpoint(whole.subarray(0, length), "cut.pth"), "cut.pth", /./);
  }
  assertRefused(
    () => parseCheckpoint(whole.subarray(0, whole.length - 30), "cut.pth"),
    "cut.pth",
    /truncated or corrupt zip archive/,
  );
});

Deno.test("a truncated legacy checkpoint is refused at every cut, naming what is missing", () => {
  const whole = torchSaveLegacy(small());
  assert.ok(parseCheckpoint(whole, "whole.pth").size === 3);
  for (let length = 1; length < whole.length; length++) {
    assertRefused(() => parseCheckpoint(whole.subarray(0, length), "cut.pth"), "cut.pth", /./);
  }
  assertRefused(
    () => parseCheckpoint(whole.subarray(0, whole.length - 2), "cut.pth"),
    "cut.pth",
    /truncated: storage '\d+' needs \d+ bytes at byte \d+, the file ends at \d+/,
  );
  assertRefused(
    () => parseCheckpoint(whole.subarray(0, 40), "cut.pth"),
    "cut.pth",
    /truncated pickle/,
  );
});

Deno.test("corrupted checkpoints are read or refused with a CheckpointError, never crash", () => {
  let seed = 7;
  const next = () => (seed = (seed * 48271) % 0x7fffffff);
  for (const whole of [torchSaveZip(small()), torchSaveLegacy(small())]) {
    for (let trial = 0; trial < 400; trial++) {
      const bytes = whole.slice();
      for (let flips = 1 + next() % 4; flips > 0; flips--) {
        bytes[next() % bytes.length] = next() & 0xff;
      }
      try {
        parseCheckpoint(bytes, "flipped.pth");
      } catch (error) {
        assert.ok(error instanceof CheckpointError, `trial ${trial}: ${error}`);
        assert.ok(!error.message.includes("\n"));
      }
    }
  }
});

Deno.test("a storage record missing from the zip is refused by name", () => {
  const records = torchZipRecords(stateDict([["w", tensor("float32", [1], [1])]]))
    .filter(([name]) => name !== "archive/data/0");
  assertRefused(
    () => parseCheckpoint(writeTorchZip(records), "missing.pth"),
    "missing.pth",
    /storage record 'archive\/data\/0' is missing/,
  );
});

Deno.test("a tensor that reads beyond its storage is refused, naming the tensor", () => {
  const storage = new FakeStorage("float32", [1, 2, 3]);
  const bytes = torchSaveZip(stateDict([["too.long", new FakeTensor(storage, 1, [2, 2], [2, 1])]]));
  assertRefused(
    () => parseCheckpoint(bytes, "overrun.pth"),
    "overrun.pth",
    /tensor 'too\.long' needs bytes 4\.\.20 of record archive\/data\/0, which holds 12 bytes/,
  );
});

Deno.test("a checkpoint without a state dict is refused, listing what it holds", () => {
  assertRefused(
    () => parseCheckpoint(torchSaveZip(new PyDict([["epoch", 3], ["best", 0]])), "meta.pth"),
    "meta.pth",
    /no state dict found: the top-level dict has no tensors and no 'state_dict' or 'model' entry \(keys: 'epoch', 'best'\)/,
  );
  assertRefused(
    () => parseCheckpoint(torchSaveZip([1, 2]), "list.pth"),
    "list.pth",
    /the checkpoint holds a list, not a state dict/,
  );
  assertRefused(
    () => parseCheckpoint(torchSaveZip(new PyDict([["model", "resnet"]])), "named.pth"),
    "named.pth",
    /entry 'model' holds a str, not a state dict/,
  );
});

Deno.test("'module.x' and 'x' in one checkpoint are refused instead of silently merged", () => {
  const bytes = torchSaveZip(stateDict([
    ["x", tensor("float32", [1], [1])],
    ["module.x", tensor("float32", [1], [2])],
  ]));
  assertRefused(() => parseCheckpoint(bytes, "clash.pth"), "clash.pth", /'x' and 'module\.x'/);
});

Deno.test("control characters from a hostile file cannot break the one-line message", () => {
  const name = "evil\nmodule\r\u001b[31m";
  const bytes = torchSaveZip(
    new PyDict([["w", new PyReduce(new PyGlobal(name, "x"), new PyTuple([]))]]),
    { protocol: 4 },
  );
  assertRefused(() => parseCheckpoint(bytes, "ctl.pth"), "ctl.pth", /refused global 'evil module/);
});

Deno.test("the byteorder record must say little or big", () => {
  const records = torchZipRecords(stateDict([["w", tensor("float32", [1], [1])]]), {
    byteorder: "little",
  }).map(([name, data]): [string, Uint8Array] =>
    name === "archive/byteorder" ? [name, encoder.encode("middle")] : [name, data]
  );
  assertRefused(
    () => parseCheckpoint(writeTorchZip(records), "order.pth"),
    "order.pth",
    /byteorder record says 'middle'/,
  );
});

Deno.test("bytes that would run code if unpickled by Python are inert data here", () => {
  // The classic exploit: GLOBAL posix system, MARK, string, TUPLE, REDUCE, STOP.
  const bytes = writeTorchZip([[
    "archive/data.pkl",
    encoder.encode("cposix\nsystem\n(S'id'\ntR."),
  ]]);
  assertRefused(
    () => parseCheckpoint(bytes, "raw.pth"),
    "raw.pth",
    /refused global 'posix\.system'/,
  );
});
