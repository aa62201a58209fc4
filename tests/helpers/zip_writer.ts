/**
 * Test-only zip writer that lays records out as torch's PyTorchStreamWriter (miniz) does:
 * stored (uncompressed) records, each local header padded with an `FB` extra field so the
 * data starts on a 64-byte boundary, a data descriptor after each record, version fields
 * 0, DOS date 0, and zip64 end records always present.
 * @module
 */

const ALIGNMENT = 64;

/**
 * Writes `records` (name, bytes) in order into one archive.
 *
 * @example
 * ```ts
 * import { writeTorchZip } from "./zip_writer.ts";
 * const zip = writeTorchZip([["archive/version", new TextEncoder().encode("3\n")]]);
 * ```
 */
export function writeTorchZip(records: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (chunk: Uint8Array) => {
    chunks.push(chunk);
    offset += chunk.length;
  };
  for (const [name, data] of records) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const headerOffset = offset;
    const start = offset + 30 + nameBytes.length + 4;
    const padding = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
    const local = new Writer(30 + nameBytes.length + 4 + padding);
    local.u32(0x04034b50).u16(0).u16(0x0808).u16(0).u16(0).u16(0);
    local.u32(0).u32(0).u32(0).u16(nameBytes.length).u16(4 + padding);
    local.bytes(nameBytes).u16(0x4246).u16(padding).bytes(new Uint8Array(padding).fill(0x5a));
    push(local.result);
    push(data);
    push(new Writer(16).u32(0x08074b50).u32(crc).u32(data.length).u32(data.length).result);
    const entry = new Writer(46 + nameBytes.length);
    entry.u32(0x02014b50).u16(0).u16(0).u16(0x0808).u16(0).u16(0).u16(0);
    entry.u32(crc).u32(data.length).u32(data.length).u16(nameBytes.length).u16(0).u16(0);
    entry.u16(0).u16(0).u32(0).u32(headerOffset).bytes(nameBytes);
    central.push(entry.result);
  }
  const directoryOffset = offset;
  for (const entry of central) push(entry);
  const directorySize = offset - directoryOffset;
  const zip64End = offset;
  const count = records.length;
  push(
    new Writer(56).u32(0x06064b50).u64(44).u16(0x031e).u16(0x002d).u32(0).u32(0)
      .u64(count).u64(count).u64(directorySize).u64(directoryOffset).result,
  );
  push(new Writer(20).u32(0x07064b50).u32(0).u64(zip64End).u32(1).result);
  push(
    new Writer(22).u32(0x06054b50).u16(0).u16(0).u16(count).u16(count).u32(directorySize)
      .u32(directoryOffset).u16(0).result,
  );
  const archive = new Uint8Array(offset);
  let at = 0;
  for (const chunk of chunks) {
    archive.set(chunk, at);
    at += chunk.length;
  }
  return archive;
}

class Writer {
  readonly result: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  constructor(size: number) {
    this.result = new Uint8Array(size);
    this.#view = new DataView(this.result.buffer);
  }

  u16(value: number): this {
    this.#view.setUint16(this.#at, value, true);
    this.#at += 2;
    return this;
  }

  u32(value: number): this {
    this.#view.setUint32(this.#at, value >>> 0, true);
    this.#at += 4;
    return this;
  }

  u64(value: number): this {
    this.#view.setBigUint64(this.#at, BigInt(value), true);
    this.#at += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.result.set(value, this.#at);
    this.#at += value.length;
    return this;
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as zip records carry it. */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
