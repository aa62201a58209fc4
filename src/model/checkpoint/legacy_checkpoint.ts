/**
 * The legacy (non-zip) checkpoint format torch.save wrote before torch 1.6 and still writes
 * with `_use_new_zipfile_serialization=False`: five pickles in a row (the magic number,
 * the protocol version 1001, a dict of system info, the object with storages as persistent
 * ids, the sorted list of storage keys), then for each key in that order an 8-byte
 * little-endian element count followed by the raw little-endian elements.
 * @module
 */

import { CheckpointError, quoteName } from "./errors.ts";
import { PickleDict, type PickleValue } from "./pickle_values.ts";
import type { UnpickledCheckpoint } from "./state_dict.ts";
import { findTorchGlobal, storageFromPersistentId } from "./torch_globals.ts";
import { ELEMENT_SIZE, StorageRef } from "./torch_objects.ts";
import { unpickle } from "./unpickler.ts";

/** The number torch pickles first in a legacy checkpoint. */
export const LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;

/** The only legacy protocol version torch ever wrote. */
export const LEGACY_PROTOCOL_VERSION = 1001;

/** True when the bytes start with a pickle PROTO opcode, as every legacy checkpoint does. */
export function looksLikePickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

/** Globals allowed in the header pickles: none. */
const noGlobals = () => undefined;

/**
 * Unpickles a legacy checkpoint and locates each storage's bytes in the file.
 *
 * @example
 * ```ts ignore
 * const checkpoint = unpickleLegacyCheckpoint(await Deno.readFile("old.pth"), "old.pth");
 * ```
 */
export function unpickleLegacyCheckpoint(bytes: Uint8Array, source: string): UnpickledCheckpoint {
  const magic = unpickle(bytes, { source, part: "magic number pickle", findGlobal: noGlobals });
  if (
    typeof magic.value !== "bigint" || magic.value !== LEGACY_MAGIC_NUMBER
  ) {
    throw new CheckpointError(
      source,
      "not a PyTorch checkpoint (a pickle, but without torch's magic number)",
    );
  }
  const protocol = unpickle(bytes, {
    source,
    part: "protocol version pickle",
    start: magic.end,
    findGlobal: noGlobals,
  });
  if (protocol.value !== LEGACY_PROTOCOL_VERSION) {
    throw new CheckpointError(
      source,
      `legacy checkpoint protocol version ${String(protocol.value)} is not supported ` +
        `(expected ${LEGACY_PROTOCOL_VERSION})`,
    );
  }
  const systemInfo = unpickle(bytes, {
    source,
    part: "system info pickle",
    start: protocol.end,
    findGlobal: noGlobals,
  });
  if (!(systemInfo.value instanceof PickleDict)) {
    throw new CheckpointError(source, "legacy checkpoint system info is not a dict");
  }

  const storages = new Map<string, StorageRef>();
  const object = unpickle(bytes, {
    source,
    part: "object pickle",
    start: systemInfo.end,
    findGlobal: findTorchGlobal,
    persistentLoad: (pid: PickleValue) => {
      const storage = storageFromPersistentId(pid);
      const root = storages.get(storage.key);
      if (!root) {
        // The first reference to a root storage declares its full size; views declare theirs.
        storages.set(
          storage.key,
          storage.byteOffset === 0
            ? storage
            : new StorageRef(storage.key, storage.dtype, Number.NaN, storage.location),
        );
      }
      return storage;
    },
  });
  const keyList = unpickle(bytes, {
    source,
    part: "storage key list pickle",
    start: object.end,
    findGlobal: noGlobals,
  });
  if (!Array.isArray(keyList.value) || keyList.value.some((key) => typeof key !== "string")) {
    throw new CheckpointError(source, "legacy checkpoint storage key list is not a list of str");
  }

  const blobs = new Map<string, Uint8Array>();
  let at = keyList.end;
  for (const key of keyList.value as string[]) {
    const storage = storages.get(key);
    if (!storage) {
      throw new CheckpointError(
        source,
        `legacy storage ${quoteName(key)} is listed but no tensor refers to it`,
      );
    }
    if (at + 8 > bytes.length) {
      throw new CheckpointError(
        source,
        `truncated: the size of storage ${
          quoteName(key)
        } at byte ${at} is past the end of the file`,
      );
    }
    const count = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
    const byteLength = Number(count) * ELEMENT_SIZE[storage.dtype];
    if (
      !Number.isNaN(storage.numel) && count !== BigInt(storage.numel)
    ) {
      throw new CheckpointError(
        source,
        `legacy storage ${
          quoteName(key)
        } holds ${count} elements, its tensors say ${storage.numel}`,
      );
    }
    if (at + 8 + byteLength > bytes.length) {
      throw new CheckpointError(
        source,
        `truncated: storage ${quoteName(key)} needs ${byteLength} bytes at byte ${at + 8}, ` +
          `the file ends at ${bytes.length}`,
      );
    }
    // A copy, so tensors that view it do not keep the whole file alive.
    blobs.set(key, bytes.slice(at + 8, at + 8 + byteLength));
    at += 8 + byteLength;
  }
  return {
    root: object.value,
    storageBytes: (storage) => {
      const blob = blobs.get(storage.key);
      if (!blob) {
        throw new CheckpointError(
          source,
          `legacy storage ${quoteName(storage.key)} is not in the storage key list`,
        );
      }
      return { bytes: blob, littleEndian: true, label: `legacy storage ${storage.key}` };
    },
  };
}
