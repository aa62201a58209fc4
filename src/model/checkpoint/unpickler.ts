/**
 * A restricted unpickler: it understands the pickle opcodes a torch state dict is written
 * with and builds plain data from them. It never calls anything but the pure TypeScript
 * reconstruction functions of the globals an allowlist admits, so nothing in a checkpoint
 * can run code or touch the file system; every other global, unknown opcode or truncated
 * stream is refused with a one-line CheckpointError naming the byte offset.
 * @module
 */

import { CheckpointError, quoteName } from "./errors.ts";
import {
  describeValue,
  type DictKey,
  PickleDataError,
  PickleDict,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
} from "./pickle_values.ts";
import { TensorRef } from "./torch_objects.ts";

/** How to unpickle one pickle stream. */
export interface UnpickleOptions {
  /** The file the bytes come from, for error messages. */
  readonly source: string;
  /** Which pickle inside the file, for error messages (e.g. `data.pkl`). */
  readonly part: string;
  /** Byte offset of the stream's first opcode; default 0. */
  readonly start?: number;
  /** Resolves `module.name` to an allowed global, or undefined to refuse it. */
  readonly findGlobal: (module: string, name: string) => PickleGlobal | undefined;
  /** Resolves a persistent id (a torch storage); without it, persistent ids are refused. */
  readonly persistentLoad?: (pid: PickleValue) => PickleValue;
}

/** The object a pickle stream encodes and the offset just past its STOP opcode. */
export interface UnpickleResult {
  readonly value: PickleValue;
  readonly end: number;
}

/** Opcodes this unpickler deliberately does not implement, named for error messages. */
const UNSUPPORTED_OPCODES: ReadonlyMap<number, string> = new Map([
  [0x53, "STRING"],
  [0x56, "UNICODE"],
  [0x69, "INST"],
  [0x6f, "OBJ"],
  [0x82, "EXT1"],
  [0x83, "EXT2"],
  [0x84, "EXT4"],
  [0x8f, "EMPTY_SET"],
  [0x90, "ADDITEMS"],
  [0x91, "FROZENSET"],
  [0x92, "NEWOBJ_EX"],
  [0x96, "BYTEARRAY8"],
  [0x97, "NEXT_BUFFER"],
  [0x98, "READONLY_BUFFER"],
]);

/** Integers wider than this many bytes (LONG4) are refused: no state dict needs them. */
const MAX_LONG_BYTES = 64;

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");

/**
 * Decodes one pickle stream under the allowlist `options.findGlobal` implements.
 *
 * @example
 * ```ts
 * import { unpickle } from "./unpickler.ts";
 * import { findTorchGlobal } from "./torch_globals.ts";
 *
 * // protocol 2: EMPTY_DICT, STOP
 * const { value } = unpickle(new Uint8Array([0x80, 2, 0x7d, 0x2e]), {
 *   source: "example.pkl",
 *   part: "pickle",
 *   findGlobal: findTorchGlobal,
 * });
 * ```
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  return new Unpickler(bytes, options).run();
}

class Unpickler {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #options: UnpickleOptions;
  #pos: number;
  #opStart: number;
  readonly #stack: PickleValue[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, PickleValue>();

  constructor(bytes: Uint8Array, options: UnpickleOptions) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#options = options;
    this.#pos = options.start ?? 0;
    this.#opStart = this.#pos;
  }

  run(): UnpickleResult {
    try {
      for (;;) {
        this.#opStart = this.#pos;
        const opcode = this.#readU8("an opcode");
        if (opcode === 0x2e) { // STOP
          return { value: this.#pop(), end: this.#pos };
        }
        this.#step(opcode);
      }
    } catch (error) {
      if (error instanceof PickleDataError) throw this.#fail(error.message);
      throw error;
    }
  }

  #step(opcode: number): void {
    switch (opcode) {
      case 0x80: { // PROTO
        const protocol = this.#readU8("the protocol number");
        if (protocol > 5) throw this.#fail(`unsupported pickle protocol ${protocol}`);
        return;
      }
      case 0x95: // FRAME: only a hint for buffered readers
        this.#take(8, "a frame length");
        return;
      case 0x28: // MARK
        this.#marks.push(this.#stack.length);
        return;
      case 0x29: // EMPTY_TUPLE
        return this.#push(new PickleTuple([]));
      case 0x5d: // EMPTY_LIST
        return this.#push([]);
      case 0x7d: // EMPTY_DICT
        return this.#push(new PickleDict());
      case 0x74: // TUPLE
        return this.#push(new PickleTuple(this.#popMark()));
      case 0x85: // TUPLE1
        return this.#push(new PickleTuple(this.#popMany(1)));
      case 0x86: // TUPLE2
        return this.#push(new PickleTuple(this.#popMany(2)));
      case 0x87: // TUPLE3
        return this.#push(new PickleTuple(this.#popMany(3)));
      case 0x6c: // LIST
        return this.#push(this.#popMark());
      case 0x64: { // DICT
        const dict = new PickleDict();
        this.#setItems(dict, this.#popMark());
        return this.#push(dict);
      }
      case 0x73: { // SETITEM
        const pair = this.#popMany(2);
        return this.#setItems(this.#dictOnTop("SETITEM"), pair);
      }
      case 0x75: { // SETITEMS
        const items = this.#popMark();
        return this.#setItems(this.#dictOnTop("SETITEMS"), items);
      }
      case 0x61: { // APPEND
        const item = this.#pop();
        this.#listOnTop("APPEND").push(item);
        return;
      }
      case 0x65: { // APPENDS
        const items = this.#popMark();
        const list = this.#listOnTop("APPENDS");
        for (const item of items) list.push(item);
        return;
      }
      case 0x30: // POP
        this.#pop();
        return;
      case 0x31: // POP_MARK
        this.#popMark();
        return;
      case 0x32: // DUP
        return this.#push(this.#peek("DUP"));
      case 0x4e: // NONE
        return this.#push(null);
      case 0x88: // NEWTRUE
        return this.#push(true);
      case 0x89: // NEWFALSE
        return this.#push(false);
      case 0x4a: // BININT
        return this.#push(this.#view.getInt32(this.#take(4, "an int"), true));
      case 0x4b: // BININT1
        return this.#push(this.#readU8("an int"));
      case 0x4d: // BININT2
        return this.#push(this.#view.getUint16(this.#take(2, "an int"), true));
      case 0x8a: // LONG1
        return this.#push(this.#readLong(this.#readU8("a long length")));
      case 0x8b: { // LONG4
        const length = this.#view.getInt32(this.#take(4, "a long length"), true);
        if (length < 0 || length > MAX_LONG_BYTES) {
          throw this.#fail(`LONG4 integer of ${length} bytes is not supported`);
        }
        return this.#push(this.#readLong(length));
      }
      case 0x49: // INT (text; "00"/"01" are protocol 0 booleans)
        return this.#push(this.#parseTextInt(this.#readLine("an INT"), true));
      case 0x4c: // LONG (text, trailing L)
        return this.#push(this.#parseTextInt(this.#readLine("a LONG").replace(/L$/, ""), false));
      case 0x47: // BINFLOAT (big-endian double)
        return this.#push(this.#view.getFloat64(this.#take(8, "a float"), false));
      case 0x46: { // FLOAT (text)
        const text = this.#readLine("a FLOAT");
        const value = Number(text);
        if (text.trim() === "" || Number.isNaN(value) && !/^[-+]?nan$/i.test(text.trim())) {
          throw this.#fail(`malformed FLOAT ${quoteName(text)}`);
        }
        return this.#push(value);
      }
      case 0x58: // BINUNICODE
        return this.#push(utf8.decode(this.#readBlob(this.#readU32("a string length"), "str")));
      case 0x8c: // SHORT_BINUNICODE
        return this.#push(utf8.decode(this.#readBlob(this.#readU8("a string length"), "str")));
      case 0x8d: // BINUNICODE8
        return this.#push(utf8.decode(this.#readBlob(this.#readU64("a string length"), "str")));
      case 0x54: // BINSTRING (Python 2 str)
        return this.#push(
          latin1.decode(this.#readBlob(this.#readU32("a string length"), "str")),
        );
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        return this.#push(latin1.decode(this.#readBlob(this.#readU8("a string length"), "str")));
      case 0x42: // BINBYTES
        return this.#push(this.#readBlob(this.#readU32("a bytes length"), "bytes").slice());
      case 0x43: // SHORT_BINBYTES
        return this.#push(this.#readBlob(this.#readU8("a bytes length"), "bytes").slice());
      case 0x8e: // BINBYTES8
        return this.#push(this.#readBlob(this.#readU64("a bytes length"), "bytes").slice());
      case 0x70: // PUT
        return this.#memoPut(this.#parseIndex(this.#readLine("a PUT index")));
      case 0x71: // BINPUT
        return this.#memoPut(this.#readU8("a memo index"));
      case 0x72: // LONG_BINPUT
        return this.#memoPut(this.#readU32("a memo index"));
      case 0x94: // MEMOIZE
        return this.#memoPut(this.#memo.size);
      case 0x67: // GET
        return this.#memoGet(this.#parseIndex(this.#readLine("a GET index")));
      case 0x68: // BINGET
        return this.#memoGet(this.#readU8("a memo index"));
      case 0x6a: // LONG_BINGET
        return this.#memoGet(this.#readU32("a memo index"));
      case 0x63: { // GLOBAL
        const module = this.#readLine("a GLOBAL module name");
        const name = this.#readLine("a GLOBAL name");
        return this.#push(this.#global(module, name));
      }
      case 0x93: { // STACK_GLOBAL
        const [module, name] = this.#popMany(2);
        if (typeof module !== "string" || typeof name !== "string") {
          throw this.#fail(
            `STACK_GLOBAL needs two strings, found ${describeValue(module)} and ${
              describeValue(name)
            }`,
          );
        }
        return this.#push(this.#global(module, name));
      }
      case 0x52: { // REDUCE
        const args = this.#pop();
        const callable = this.#pop();
        return this.#push(this.#call(callable, args, "REDUCE", false));
      }
      case 0x81: { // NEWOBJ
        const args = this.#pop();
        const cls = this.#pop();
        return this.#push(this.#call(cls, args, "NEWOBJ", true));
      }
      case 0x62: // BUILD
        return this.#build(this.#pop());
      case 0x51: // BINPERSID
        return this.#push(this.#persistentLoad(this.#pop()));
      case 0x50: // PERSID
        return this.#push(this.#persistentLoad(this.#readLine("a persistent id")));
      default: {
        const hex = `0x${opcode.toString(16).padStart(2, "0")}`;
        const name = UNSUPPORTED_OPCODES.get(opcode);
        if (opcode === 0x69) this.#refuseInst();
        throw this.#fail(
          name ? `unsupported pickle opcode ${name} (${hex})` : `unknown pickle opcode ${hex}`,
        );
      }
    }
  }

  #fail(problem: string): CheckpointError {
    return new CheckpointError(
      this.#options.source,
      `${problem} (${this.#options.part}, byte ${this.#opStart})`,
    );
  }

  #global(module: string, name: string): PickleGlobal {
    const found = this.#options.findGlobal(module, name);
    if (!found) {
      throw this.#fail(
        `refused global ${quoteName(`${module}.${name}`)}: a checkpoint may only name ` +
          "torch tensor, storage and state-dict types, so it is not loaded",
      );
    }
    return found;
  }

  /** INST names a class like GLOBAL does; a forbidden one is reported by name. */
  #refuseInst(): void {
    const module = this.#readLine("an INST module name");
    const name = this.#readLine("an INST name");
    this.#global(module, name);
  }

  #call(callable: PickleValue, args: PickleValue, opcode: string, isNew: boolean): PickleValue {
    if (!(callable instanceof PickleGlobal) || callable.meaning.kind !== "callable") {
      throw this.#fail(`${opcode} applied to ${describeValue(callable)}, which is not callable`);
    }
    if (isNew && !callable.meaning.constructible) {
      throw this.#fail(`${opcode} applied to ${callable.qualifiedName}, which is not a class`);
    }
    if (!(args instanceof PickleTuple)) {
      throw this.#fail(`${opcode} arguments must be a tuple, found ${describeValue(args)}`);
    }
    return callable.meaning.call(args.items);
  }

  #build(state: PickleValue): void {
    const target = this.#peek("BUILD");
    if (target instanceof PickleDict) {
      target.state = state;
      return;
    }
    if (target instanceof TensorRef) return; // a Parameter's extra attributes
    throw this.#fail(`BUILD on ${describeValue(target)} is not supported`);
  }

  #persistentLoad(pid: PickleValue): PickleValue {
    if (!this.#options.persistentLoad) {
      throw this.#fail("persistent id where none is expected");
    }
    return this.#options.persistentLoad(pid);
  }

  #setItems(dict: PickleDict, items: PickleValue[]): void {
    if (items.length % 2 !== 0) throw this.#fail("odd number of items for a dict");
    for (let i = 0; i < items.length; i += 2) {
      dict.entries.set(this.#dictKey(items[i]), items[i + 1]);
    }
  }

  #dictKey(key: PickleValue): DictKey {
    if (
      key === null || typeof key === "string" || typeof key === "number" ||
      typeof key === "bigint" || typeof key === "boolean"
    ) return key;
    throw this.#fail(`unsupported dict key of type ${describeValue(key)}`);
  }

  #dictOnTop(opcode: string): PickleDict {
    const top = this.#peek(opcode);
    if (!(top instanceof PickleDict)) {
      throw this.#fail(`${opcode} on ${describeValue(top)}, expected a dict`);
    }
    return top;
  }

  #listOnTop(opcode: string): PickleValue[] {
    const top = this.#peek(opcode);
    if (!Array.isArray(top)) {
      throw this.#fail(`${opcode} on ${describeValue(top)}, expected a list`);
    }
    return top;
  }

  #memoPut(index: number): void {
    this.#memo.set(index, this.#peek("a memo put"));
  }

  #memoGet(index: number): void {
    if (!this.#memo.has(index)) throw this.#fail(`memo entry ${index} is used before it is set`);
    this.#push(this.#memo.get(index)!);
  }

  #push(value: PickleValue): void {
    this.#stack.push(value);
  }

  #pop(): PickleValue {
    const floor = this.#marks.length ? this.#marks[this.#marks.length - 1] : 0;
    if (this.#stack.length <= floor) throw this.#fail("pickle stack underflow");
    return this.#stack.pop()!;
  }

  #peek(what: string): PickleValue {
    const floor = this.#marks.length ? this.#marks[this.#marks.length - 1] : 0;
    if (this.#stack.length <= floor) throw this.#fail(`${what} with an empty stack`);
    return this.#stack[this.#stack.length - 1];
  }

  #popMany(count: number): PickleValue[] {
    const items = new Array<PickleValue>(count);
    for (let i = count - 1; i >= 0; i--) items[i] = this.#pop();
    return items;
  }

  #popMark(): PickleValue[] {
    const mark = this.#marks.pop();
    if (mark === undefined) throw this.#fail("MARK expected but none is open");
    return this.#stack.splice(mark);
  }

  #take(length: number, what: string): number {
    if (length > this.#bytes.length - this.#pos) {
      throw this.#fail(`truncated pickle: ${what} runs past the end of the data`);
    }
    const at = this.#pos;
    this.#pos += length;
    return at;
  }

  #readU8(what: string): number {
    return this.#bytes[this.#take(1, what)];
  }

  #readU32(what: string): number {
    return this.#view.getUint32(this.#take(4, what), true);
  }

  #readU64(what: string): number {
    const value = this.#view.getBigUint64(this.#take(8, what), true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  #readBlob(length: number, what: string): Uint8Array {
    const at = this.#take(length, `a ${what} of ${length} bytes`);
    return this.#bytes.subarray(at, at + length);
  }

  #readLine(what: string): string {
    const newline = this.#bytes.indexOf(0x0a, this.#pos);
    if (newline < 0) throw this.#fail(`truncated pickle: ${what} has no end of line`);
    const line = latin1.decode(this.#bytes.subarray(this.#pos, newline));
    this.#pos = newline + 1;
    return line;
  }

  /** Little-endian two's complement integer of `length` bytes. */
  #readLong(length: number): number | bigint {
    const at = this.#take(length, "a long");
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.#bytes[at + i]);
    if (length > 0 && this.#bytes[at + length - 1] & 0x80) value -= 1n << BigInt(8 * length);
    return narrowInt(value);
  }

  #parseTextInt(text: string, allowBool: boolean): number | bigint | boolean {
    if (allowBool && text === "00") return false;
    if (allowBool && text === "01") return true;
    if (!/^[-+]?\d+$/.test(text)) throw this.#fail(`malformed integer ${quoteName(text)}`);
    return narrowInt(BigInt(text));
  }

  #parseIndex(text: string): number {
    if (!/^\d+$/.test(text)) throw this.#fail(`malformed memo index ${quoteName(text)}`);
    return Number(text);
  }
}

/** Python ints become numbers when exact, bigints otherwise. */
function narrowInt(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}
