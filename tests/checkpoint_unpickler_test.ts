import assert from "node:assert/strict";
import { PickleDict, PickleGlobal, PickleTuple } from "../src/model/checkpoint/pickle_values.ts";
import { findTorchGlobal } from "../src/model/checkpoint/torch_globals.ts";
import { StorageRef, TensorRef } from "../src/model/checkpoint/torch_objects.ts";
import { unpickle } from "../src/model/checkpoint/unpickler.ts";
import { assertRefused } from "./helpers/checkpoint_assert.ts";
import { pickle, PyDict, PyFloat, PyGlobal, PyReduce, PyTuple } from "./helpers/pickle_writer.ts";

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function load(bytes: Uint8Array) {
  return unpickle(bytes, { source: "t.pkl", part: "pickle", findGlobal: findTorchGlobal }).value;
}

Deno.test("integers of every width decode as Python wrote them (BININT1/2, BININT, LONG1)", () => {
  const values = [0, 255, 256, 65535, 65536, -1, -129, 2147483647, 2147483648, -2147483649];
  const big = [2n ** 70n, -(2n ** 70n), 0x1950a86a20f9469cfc6cn];
  for (const protocol of [2, 4] as const) {
    assert.deepEqual(load(pickle([...values, ...big], { protocol })), [...values, ...big]);
  }
  assert.equal(load(pickle(2 ** 53 - 1)), 2 ** 53 - 1);
  assert.equal(load(pickle(2n ** 53n)), 2n ** 53n);
});

Deno.test("floats, strings, booleans, None, tuples, lists and dicts decode", () => {
  const value = new PyDict([
    ["floats", [0.5, new PyFloat(2), new PyFloat(-1e300), new PyFloat(Infinity)]],
    ["text", ["", "héllo ✓", "x".repeat(300)]],
    ["flags", [true, false, null]],
    ["tuples", [new PyTuple([]), new PyTuple([1]), new PyTuple([1, 2]), new PyTuple([1, 2, 3, 4])]],
    ["long_list", Array.from({ length: 2500 }, (_, i) => i)],
  ]);
  for (const protocol of [2, 4] as const) {
    const dict = load(pickle(value, { protocol }));
    assert.ok(dict instanceof PickleDict);
    assert.deepEqual(dict.entries.get("floats"), [0.5, 2, -1e300, Infinity]);
    assert.deepEqual(dict.entries.get("text"), ["", "héllo ✓", "x".repeat(300)]);
    assert.deepEqual(dict.entries.get("flags"), [true, false, null]);
    const tuples = dict.entries.get("tuples") as PickleTuple[];
    assert.deepEqual(tuples.map((t) => t.items), [[], [1], [1, 2], [1, 2, 3, 4]]);
    assert.equal((dict.entries.get("long_list") as number[]).length, 2500);
    assert.equal((dict.entries.get("long_list") as number[])[2499], 2499);
  }
});

Deno.test("the memo makes repeated objects the same object (BINPUT/BINGET, LONG_BINPUT)", () => {
  const shared = new PyTuple([1, 2, 3, 4]);
  const many = Array.from({ length: 300 }, (_, i) => `s${i}`);
  const list = load(pickle([shared, ...many, shared])) as unknown[];
  assert.equal(list[0], list[301]);
  assert.ok(list[0] instanceof PickleTuple);
});

Deno.test("protocol 0 text opcodes used by old pickles decode (INT, LONG, FLOAT, PUT, GET, GLOBAL)", () => {
  const text =
    "(lp0\nI42\naI01\naL123456789012345678901L\naF0.25\nag0\naccollections\nOrderedDict\np1\na.";
  const list = load(latin1(text)) as unknown[];
  assert.deepEqual(list.slice(0, 4), [42, true, 123456789012345678901n, 0.25]);
  assert.equal(list[4], list);
  assert.ok(list[5] instanceof PickleGlobal);
});

Deno.test("DUP, POP, POP_MARK, LIST, DICT and SETITEM build what Python builds", () => {
  // MARK 1 2 LIST ; DUP ; POP ; MARK 'a' 1 DICT ; MARK 9 POP_MARK ; 'b' 2 SETITEM ; TUPLE2 ; STOP
  const bytes = new Uint8Array([
    0x28,
    0x4b,
    1,
    0x4b,
    2,
    0x6c,
    0x32,
    0x30,
    0x28,
    0x8c,
    1,
    0x61,
    0x4b,
    1,
    0x64,
    0x28,
    0x4b,
    9,
    0x31,
    0x8c,
    1,
    0x62,
    0x4b,
    2,
    0x73,
    0x86,
    0x2e,
  ]);
  const result = load(bytes) as PickleTuple;
  assert.deepEqual(result.items[0], [1, 2]);
  const dict = result.items[1] as PickleDict;
  assert.deepEqual([...dict.entries], [["a", 1], ["b", 2]]);
});

Deno.test("torch tensor rebuilds produce strided tensor references over their storage", () => {
  const rebuild = new PyReduce(
    new PyGlobal("torch._utils", "_rebuild_tensor_v2"),
    new PyTuple([
      new PyTuple(["storage", new PyGlobal("torch", "HalfStorage"), "7", "cuda:0", 12]),
      2,
      new PyTuple([2, 3]),
      new PyTuple([1, 4]),
      false,
      new PyDict([], true),
    ]),
  );
  const bytes = pickle(rebuild, {
    persistentId: (value) =>
      value instanceof PyTuple && value.items[0] === "storage" ? value : undefined,
  });
  // The writer emits the pid tuple and BINPERSID; the reader resolves it with persistentLoad.
  const value = unpickle(bytes, {
    source: "t.pkl",
    part: "pickle",
    findGlobal: findTorchGlobal,
    persistentLoad: (pid) => {
      const [, type, key, location, numel] = (pid as PickleTuple).items;
      assert.ok(type instanceof PickleGlobal && type.meaning.kind === "storageType");
      return new StorageRef(key as string, type.meaning.dtype, numel as number, location as string);
    },
  }).value;
  assert.ok(value instanceof TensorRef);
  assert.equal(value.dtype, "float16");
  assert.equal(value.storage.location, "cuda:0");
  assert.deepEqual([value.offset, value.shape, value.stride], [2, [2, 3], [1, 4]]);
});

Deno.test("unknown opcodes are refused naming the opcode and its offset", () => {
  assertRefused(
    () => load(new Uint8Array([0x80, 2, 0x7d, 0x05, 0x2e])),
    "t.pkl",
    /^t\.pkl: unknown pickle opcode 0x05 \(pickle, byte 3\)$/,
  );
  assertRefused(
    () => load(new Uint8Array([0x80, 2, 0x82, 1, 0x2e])),
    "t.pkl",
    /unsupported pickle opcode EXT1 \(0x82\) \(pickle, byte 2\)/,
  );
  assertRefused(
    () => load(new Uint8Array([0x80, 9, 0x2e])),
    "t.pkl",
    /unsupported pickle protocol 9 \(pickle, byte 0\)/,
  );
});

Deno.test("INST naming a forbidden class is refused by the class name", () => {
  assertRefused(
    () => load(latin1("(K\x01ios\nsystem\n.")),
    "t.pkl",
    /refused global 'os\.system'/,
  );
});

Deno.test("truncated and malformed streams are refused, not crashed on", () => {
  const whole = pickle(new PyDict([["key", [1, 2, 300000, "text"]]]));
  for (let length = 0; length < whole.length; length++) {
    assertRefused(() => load(whole.subarray(0, length)), "t.pkl", /\(pickle, byte \d+\)$/);
  }
  assertRefused(
    () => load(new Uint8Array([0x68, 5, 0x2e])),
    "t.pkl",
    /memo entry 5 is used before/,
  );
  assertRefused(() => load(new Uint8Array([0x61, 0x2e])), "t.pkl", /stack underflow/);
  assertRefused(() => load(new Uint8Array([0x74, 0x2e])), "t.pkl", /MARK expected/);
  assertRefused(
    () => load(new Uint8Array([0x58, 0xff, 0xff, 0xff, 0x7f, 0x41])),
    "t.pkl",
    /truncated pickle: a str of 2147483647 bytes runs past the end/,
  );
  assertRefused(
    () => load(new Uint8Array([0x4b, 1, 0x51, 0x2e])),
    "t.pkl",
    /persistent id where none/,
  );
});

Deno.test("the allowlist admits only state-dict types", () => {
  for (
    const [module, name] of [
      ["collections", "OrderedDict"],
      ["torch._utils", "_rebuild_tensor_v2"],
      ["torch._utils", "_rebuild_parameter"],
      ["torch", "BFloat16Storage"],
      ["torch", "float16"],
    ]
  ) assert.ok(findTorchGlobal(module, name), `${module}.${name} should be allowed`);
  for (
    const [module, name] of [
      ["os", "system"],
      ["builtins", "eval"],
      ["__builtin__", "exec"],
      ["subprocess", "Popen"],
      ["posix", "system"],
      ["torch", "load"],
      ["torch._utils", "_rebuild_device_tensor_from_numpy"],
      ["collections", "OrderedDict.fromkeys"],
    ]
  ) assert.equal(findTorchGlobal(module, name), undefined, `${module}.${name} must be refused`);
});
