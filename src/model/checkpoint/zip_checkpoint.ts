/**
 * The zip checkpoint format torch.save writes since torch 1.6: `<archive>/data.pkl` (the
 * pickled object, storages as persistent ids), `<archive>/data/<key>` (each storage's raw
 * elements), `<archive>/byteorder` (`little` or `big`; little when absent) and `version`.
 * @module
 */

import { type UnzipFileInfo, unzipSync } from "fflate";
import { CheckpointError, oneLine, quoteName } from "./errors.ts";
import { PickleDataError, type PickleValue } from "./pickle_values.ts";
import type { UnpickledCheckpoint } from "./state_dict.ts";
import { findTorchGlobal, storageFromPersistentId } from "./torch_globals.ts";
import type { StorageRef } from "./torch_objects.ts";
import { unpickle } from "./unpickler.ts";

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const CENTRAL_HEADER_SIZE = 46;

/** True when the bytes start like a zip archive. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/**
 * Unpickles `data.pkl` of a zip checkpoint and extracts the storage records it refers to.
 *
 * @example
 * ```ts ignore
 * const checkpoint = unpickleZipCheckpoint(await Deno.readFile("model.pth"), "model.pth");
 * ```
 */
export function unpickleZipCheckpoint(bytes: Uint8Array, source: string): UnpickledCheckpoint {
  checkCentralDirectory(bytes, source);
  const entries = new Map<string, UnzipFileInfo>();
  extract(bytes, source, (info) => {
    entries.set(info.name, info);
    return false;
  });
  const pickleName = findDataPickle([...entries.keys()], source);
  const prefix = pickleName.slice(0, -"data.pkl".length);
  const head = extractNamed(bytes, source, entries, [pickleName, `${prefix}byteorder`]);
  const littleEndian = byteOrder(head.get(`${prefix}byteorder`), source);

  const storages = new Map<string, StorageRef>();
  const { value: root } = unpickle(head.get(pickleName)!, {
    source,
    part: pickleName,
    findGlobal: findTorchGlobal,
    persistentLoad: (pid: PickleValue) => {
      const storage = storageFromPersistentId(pid);
      const known = storages.get(storage.key);
      if (known && known.dtype !== storage.dtype) {
        throw new PickleDataError(
          `storage ${quoteName(storage.key)} is used as both ${known.dtype} and ${storage.dtype}`,
        );
      }
      if (!known) storages.set(storage.key, storage);
      return known ?? storage;
    },
  });

  const recordNames = [...storages.keys()].map((key) => `${prefix}data/${key}`);
  for (const name of recordNames) {
    if (!entries.has(name)) {
      throw new CheckpointError(source, `storage record ${quoteName(name)} is missing`);
    }
  }
  const records = extractNamed(bytes, source, entries, recordNames);
  return {
    root,
    storageBytes: (storage) => {
      const name = `${prefix}data/${storage.key}`;
      return { bytes: records.get(name)!, littleEndian, label: `record ${name}` };
    },
  };
}

/** The `data.pkl` record: at the top level or in the single archive directory. */
function findDataPickle(names: readonly string[], source: string): string {
  const candidates = names.filter((name) => /^([^/]+\/)?data\.pkl$/.test(name));
  if (candidates.length === 0) {
    throw new CheckpointError(
      source,
      "zip archive has no data.pkl record, so it is not a PyTorch checkpoint",
    );
  }
  if (candidates.length > 1) {
    throw new CheckpointError(
      source,
      `zip archive has ${candidates.length} data.pkl records (${
        candidates.slice(0, 3).map(quoteName).join(", ")
      }), expected one`,
    );
  }
  return candidates[0];
}

function byteOrder(record: Uint8Array | undefined, source: string): boolean {
  if (record === undefined) return true;
  const text = new TextDecoder().decode(record).trim();
  if (text === "little") return true;
  if (text === "big") return false;
  throw new CheckpointError(source, `byteorder record says ${quoteName(text)}, not little or big`);
}

/** Extracts the named records (those present) and checks each came out whole. */
function extractNamed(
  bytes: Uint8Array,
  source: string,
  entries: ReadonlyMap<string, UnzipFileInfo>,
  names: readonly string[],
): Map<string, Uint8Array> {
  const wanted = new Set(names);
  const files = extract(bytes, source, (info) => wanted.has(info.name));
  const result = new Map<string, Uint8Array>();
  for (const name of names) {
    const data = files[name];
    const info = entries.get(name);
    if (data === undefined || info === undefined) continue;
    if (data.length !== info.originalSize) {
      throw new CheckpointError(
        source,
        `zip record ${quoteName(name)} is truncated (${data.length} of ${info.originalSize} bytes)`,
      );
    }
    result.set(name, data);
  }
  return result;
}

function extract(
  bytes: Uint8Array,
  source: string,
  filter: (info: UnzipFileInfo) => boolean,
): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter });
  } catch (error) {
    const reason = error instanceof Error ? oneLine(error.message) : "unknown error";
    throw new CheckpointError(source, `corrupt zip archive (${reason})`);
  }
}

/**
 * Checks the end-of-central-directory records before fflate walks the directory, so a
 * truncated or damaged archive is reported as such instead of being walked blindly.
 */
function checkCentralDirectory(bytes: Uint8Array, source: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const searchFrom = Math.max(0, bytes.length - 22 - 0xffff);
  let end = -1;
  for (let at = bytes.length - 22; at >= searchFrom; at--) {
    if (view.getUint32(at, true) === END_OF_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) {
    throw new CheckpointError(
      source,
      "truncated or corrupt zip archive (no end-of-central-directory record)",
    );
  }
  let count = view.getUint16(end + 10, true);
  let directorySize = view.getUint32(end + 12, true);
  let directoryOffset = view.getUint32(end + 16, true);
  let directoryEnd = end;
  const locator = end - 20;
  if (locator >= 0 && view.getUint32(locator, true) === ZIP64_LOCATOR) {
    const zip64End = Number(view.getBigUint64(locator + 8, true));
    if (zip64End + 56 > locator || view.getUint32(zip64End, true) !== ZIP64_END_OF_DIRECTORY) {
      throw new CheckpointError(source, "corrupt zip archive (bad zip64 directory record)");
    }
    count = Number(view.getBigUint64(zip64End + 32, true));
    directorySize = Number(view.getBigUint64(zip64End + 40, true));
    directoryOffset = Number(view.getBigUint64(zip64End + 48, true));
    directoryEnd = zip64End;
  }
  if (
    directoryOffset + directorySize > directoryEnd ||
    count * CENTRAL_HEADER_SIZE > directorySize
  ) {
    throw new CheckpointError(
      source,
      `truncated or corrupt zip archive (central directory of ${count} entries does not fit)`,
    );
  }
}
