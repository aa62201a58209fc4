/**
 * Test-only pickler that writes the bytes CPython's `pickle` module writes (protocols 2
 * and 4) for the values a torch checkpoint holds, so checkpoint tests need no Python.
 * It follows CPython's `_Pickler` step by step: memoization (BINPUT/LONG_BINPUT, MEMOIZE),
 * batching of SETITEMS/APPENDS by 1000, the smallest integer opcode, TUPLE1..3, the
 * `builtins` -> `__builtin__` renaming of protocol 2, persistent ids and `__reduce__`.
 * @module
 */

/** A Python tuple. */
export class PyTuple {
  /** @param items elements */
  constructor(readonly items: readonly PyValue[]) {}
}

/** A Python dict, or an OrderedDict (pickled through its `__reduce__`, with optional attributes). */
export class PyDict {
  /**
   * @param entries key/value pairs in order
   * @param ordered true for collections.OrderedDict
   * @param attributes an OrderedDict's `__dict__` (e.g. `_metadata`), pickled with BUILD
   */
  constructor(
    readonly entries: ReadonlyArray<readonly [PyValue, PyValue]>,
    readonly ordered = false,
    readonly attributes: PyDict | null = null,
  ) {}
}

/** A module attribute, pickled by reference (GLOBAL or STACK_GLOBAL). */
export class PyGlobal {
  /** @param module e.g. `torch._utils`; @param name e.g. `_rebuild_tensor_v2` */
  constructor(readonly module: string, readonly name: string) {}
}

/** What `__reduce__` returns: `func(*args)`, then optional state applied with BUILD. */
export class PyReduce {
  /** @param func callable; @param args its arguments; @param state BUILD state */
  constructor(
    readonly func: PyValue,
    readonly args: PyTuple,
    readonly state: PyValue | undefined = undefined,
  ) {}
}

/** A Python float whose value happens to be integral (plain non-integral numbers are floats). */
export class PyFloat {
  /** @param value the float */
  constructor(readonly value: number) {}
}

/** Bytes written verbatim (for hand-made hostile pickles). */
export class RawOpcodes {
  /** @param bytes opcodes */
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * A value the writer knows how to pickle. Integral JS numbers are Python ints; any other
 * object is handed to the `reduce`/`persistentId` hooks.
 */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | PyReduce
  | PyFloat
  | RawOpcodes
  | object;

/** Hooks and protocol, as on a CPython Pickler. */
export interface PicklerOptions {
  /** 2 (torch's default) or 4. */
  readonly protocol?: 2 | 4;
  /** Like `Pickler.persistent_id`: a pid for objects stored outside the pickle. */
  readonly persistentId?: (value: PyValue) => PyValue | undefined;
  /** Like `__reduce_ex__` for objects the writer does not know. */
  readonly reduce?: (value: object) => PyReduce | undefined;
}

const BATCH_SIZE = 1000;

/**
 * Pickles `value` the way `pickle.dumps(value, protocol)` does.
 *
 * @example
 * ```ts
 * import { pickle, PyDict } from "./pickle_writer.ts";
 * pickle(new PyDict([["a", 1]])); // 80 02 7d 71 00 58 01 00 00 00 61 71 01 4b 01 73 2e
 * ```
 */
export function pickle(value: PyValue, options: PicklerOptions = {}): Uint8Array {
  return new Pickler(options).dump(value);
}

class Pickler {
  readonly #out: number[] = [];
  readonly #memo = new Map<unknown, number>();
  readonly #protocol: 2 | 4;

  constructor(readonly options: PicklerOptions) {
    this.#protocol = options.protocol ?? 2;
  }

  dump(value: PyValue): Uint8Array {
    this.#save(value);
    this.#out.push(0x2e); // STOP
    const body = Uint8Array.from(this.#out);
    const head = [0x80, this.#protocol];
    if (this.#protocol >= 4 && body.length >= 4) head.push(0x95, ...u64(body.length));
    const result = new Uint8Array(head.length + body.length);
    result.set(head);
    result.set(body, head.length);
    return result;
  }

  #write(...bytes: number[]): void {
    for (const byte of bytes) this.#out.push(byte);
  }

  #writeBytes(bytes: Uint8Array): void {
    for (const byte of bytes) this.#out.push(byte);
  }

  #save(value: PyValue, persistent = true): void {
    if (persistent && this.options.persistentId) {
      const pid = this.options.persistentId(value);
      if (pid !== undefined) {
        this.#save(pid, false);
        this.#write(0x51); // BINPERSID
        return;
      }
    }
    const key = memoKey(value);
    if (key !== undefined && this.#memo.has(key)) return this.#get(this.#memo.get(key)!);
    if (value === null) return this.#write(0x4e);
    if (typeof value === "boolean") return this.#write(value ? 0x88 : 0x89);
    if (typeof value === "number" && Number.isInteger(value)) return this.#saveInt(BigInt(value));
    if (typeof value === "bigint") return this.#saveInt(value);
    if (typeof value === "number" || value instanceof PyFloat) {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setFloat64(0, typeof value === "number" ? value : value.value);
      this.#write(0x47); // BINFLOAT
      return this.#writeBytes(bytes);
    }
    if (typeof value === "string") return this.#saveString(value);
    if (Array.isArray(value)) return this.#saveList(value);
    if (value instanceof PyTuple) return this.#saveTuple(value);
    if (value instanceof PyDict) return this.#saveDict(value);
    if (value instanceof PyGlobal) return this.#saveGlobal(value);
    if (value instanceof PyReduce) return this.#saveReduce(value, value);
    if (value instanceof RawOpcodes) return this.#writeBytes(value.bytes);
    const reduced = this.options.reduce?.(value);
    if (!reduced) throw new Error(`cannot pickle ${String(value)}`);
    this.#saveReduce(reduced, value);
  }

  #memoize(value: PyValue): void {
    const index = this.#memo.size;
    if (this.#protocol >= 4) this.#write(0x94); // MEMOIZE
    else if (index < 256) this.#write(0x71, index); // BINPUT
    else this.#write(0x72, ...u32(index)); // LONG_BINPUT
    this.#memo.set(memoKey(value), index);
  }

  #get(index: number): void {
    if (index < 256) this.#write(0x68, index); // BINGET
    else this.#write(0x6a, ...u32(index)); // LONG_BINGET
  }

  #saveInt(value: bigint): void {
    if (value >= 0n && value <= 0xffn) return this.#write(0x4b, Number(value));
    if (value >= 0n && value <= 0xffffn) {
      return this.#write(0x4d, Number(value & 0xffn), Number(value >> 8n));
    }
    if (value >= -0x80000000n && value <= 0x7fffffffn) {
      return this.#write(0x4a, ...u32(Number(BigInt.asUintN(32, value))));
    }
    const encoded = encodeLong(value);
    this.#write(0x8a, encoded.length, ...encoded); // LONG1
  }

  #saveString(value: string): void {
    const encoded = new TextEncoder().encode(value);
    if (this.#protocol >= 4 && encoded.length < 256) this.#write(0x8c, encoded.length);
    else this.#write(0x58, ...u32(encoded.length));
    this.#writeBytes(encoded);
    this.#memoize(value);
  }

  #saveList(list: PyValue[]): void {
    this.#write(0x5d); // EMPTY_LIST
    this.#memoize(list);
    for (let i = 0; i === 0 || i < list.length; i += BATCH_SIZE) {
      const batch = list.slice(i, i + BATCH_SIZE);
      if (batch.length > 1) {
        this.#write(0x28);
        for (const item of batch) this.#save(item);
        this.#write(0x65); // APPENDS
      } else if (batch.length === 1) {
        this.#save(batch[0]);
        this.#write(0x61); // APPEND
      }
    }
  }

  #saveTuple(tuple: PyTuple): void {
    const n = tuple.items.length;
    if (n === 0) return this.#write(0x29); // EMPTY_TUPLE, never memoized
    if (n <= 3) {
      for (const item of tuple.items) this.#save(item);
      this.#write([0x85, 0x86, 0x87][n - 1]);
    } else {
      this.#write(0x28);
      for (const item of tuple.items) this.#save(item);
      this.#write(0x74); // TUPLE
    }
    this.#memoize(tuple);
  }

  #saveDict(dict: PyDict): void {
    if (dict.ordered) {
      return this.#saveReduce(
        new PyReduce(
          new PyGlobal("collections", "OrderedDict"),
          new PyTuple([]),
          dict.attributes ?? undefined,
        ),
        dict,
        dict.entries,
      );
    }
    this.#write(0x7d); // EMPTY_DICT
    this.#memoize(dict);
    this.#setItems(dict.entries);
  }

  #setItems(entries: ReadonlyArray<readonly [PyValue, PyValue]>): void {
    for (let i = 0; i === 0 || i < entries.length; i += BATCH_SIZE) {
      const batch = entries.slice(i, i + BATCH_SIZE);
      if (batch.length > 1) {
        this.#write(0x28);
        for (const [key, value] of batch) {
          this.#save(key);
          this.#save(value);
        }
        this.#write(0x75); // SETITEMS
      } else if (batch.length === 1) {
        this.#save(batch[0][0]);
        this.#save(batch[0][1]);
        this.#write(0x73); // SETITEM
      }
    }
  }

  #saveGlobal(global: PyGlobal): void {
    if (this.#protocol >= 4) {
      this.#save(global.module);
      this.#save(global.name);
      this.#write(0x93); // STACK_GLOBAL
    } else {
      const module = global.module === "builtins" ? "__builtin__" : global.module;
      this.#write(0x63); // GLOBAL
      this.#writeBytes(new TextEncoder().encode(`${module}\n${global.name}\n`));
    }
    this.#memoize(global);
  }

  #saveReduce(
    reduce: PyReduce,
    key: object,
    dictItems?: ReadonlyArray<readonly [PyValue, PyValue]>,
  ): void {
    this.#save(reduce.func);
    this.#save(reduce.args);
    this.#write(0x52); // REDUCE
    this.#memoize(key);
    if (dictItems && dictItems.length > 0) this.#setItems(dictItems);
    if (reduce.state !== undefined) {
      this.#save(reduce.state);
      this.#write(0x62); // BUILD
    }
  }
}

/**
 * Strings and globals memoize by value (CPython interns the strings a checkpoint repeats, and
 * a global is one function object); other objects by identity.
 */
function memoKey(value: PyValue): unknown {
  if (typeof value === "string") return `str:${value}`;
  if (value instanceof PyGlobal) return `global:${value.module}.${value.name}`;
  if (typeof value === "object" && value !== null && !(value instanceof RawOpcodes)) return value;
  return undefined;
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff];
}

function u64(value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return [...bytes];
}

/** CPython's `pickle.encode_long`: minimal little-endian two's complement. */
export function encodeLong(value: bigint): number[] {
  if (value === 0n) return [];
  const bits = (value < 0n ? -value - 1n : value).toString(2).length;
  let length = (bits >> 3) + 1;
  const bytes: number[] = [];
  let rest = BigInt.asUintN(8 * length, value);
  for (let i = 0; i < length; i++) {
    bytes.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
  if (value < 0n && length > 1 && bytes[length - 1] === 0xff && (bytes[length - 2] & 0x80)) {
    bytes.pop();
    length--;
  }
  return bytes;
}
