/**
 * `manifest.json` of a cache entry: which checkpoint the entry holds and, per precision,
 * which graphs were built from it, by which builder version, with which extra inputs.
 * @module
 */
import { z } from "zod";
import { writeFileAtomic } from "../fs/write_file_atomic.ts";

/** File name of the manifest inside a cache entry. */
export const MANIFEST_FILE = "manifest.json";

/** Version of the manifest layout; a manifest of another version is treated as absent. */
export const MANIFEST_FORMAT = 1;

const graphFilesSchema = z.object({ encoder: z.string(), decoder: z.string() });

const precisionRecordSchema = z.object({
  builderVersion: z.string(),
  checkpointSha256: z.string(),
  inputs: z.record(z.string(), z.string()),
  /** Relative to the entry directory. */
  files: graphFilesSchema,
  builtAt: z.string(),
  buildSeconds: z.number(),
  details: z.record(z.string(), z.unknown()),
});

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  model: z.string(),
  architecture: z.string(),
  source: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("url"), url: z.string() }),
    z.object({ kind: z.literal("file"), path: z.string() }),
  ]),
  checkpoint: z.object({
    sha256: z.string(),
    bytes: z.number(),
    /** The copy inside the entry (`checkpoint.pth`), or null when the source file is used in place. */
    file: z.string().nullable(),
  }),
  graphs: z.record(z.string(), precisionRecordSchema),
});

/** How one precision's graphs were built (file names relative to the entry directory). */
export type PrecisionRecord = z.infer<typeof precisionRecordSchema>;

/** Where an entry's checkpoint came from. */
export type CheckpointSource = ModelManifest["source"];

/**
 * The manifest of a cache entry, e.g.
 * ```json
 * {
 *   "format": 1,
 *   "model": "tinysam-42.3",
 *   "architecture": "vit_t",
 *   "source": { "kind": "url", "url": "https://github.com/.../tinysam_42.3.pth" },
 *   "checkpoint": { "sha256": "9f2c...", "bytes": 40706146, "file": "checkpoint.pth" },
 *   "graphs": {
 *     "fp32": {
 *       "builderVersion": "1",
 *       "checkpointSha256": "9f2c...",
 *       "inputs": {},
 *       "files": { "encoder": "encoder.fp32.onnx", "decoder": "decoder.fp32.onnx" },
 *       "builtAt": "2026-11-27T22:40:00.000Z",
 *       "buildSeconds": 0.9,
 *       "details": {}
 *     }
 *   }
 * }
 * ```
 */
export type ModelManifest = z.infer<typeof manifestSchema>;

/**
 * The manifest in `entryDir`, or null when there is none or it cannot be trusted (unreadable,
 * malformed, another format): the caller then rebuilds, which rewrites it.
 *
 * @example
 * ```ts ignore
 * import { readManifest } from "./model_manifest.ts";
 *
 * const manifest = await readManifest("models/cache/tinysam-42.3");
 * console.log(manifest?.graphs.fp32?.builderVersion);
 * ```
 */
export async function readManifest(entryDir: string): Promise<ModelManifest | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${entryDir}/${MANIFEST_FILE}`);
  } catch {
    return null;
  }
  try {
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Writes the manifest of `entryDir` atomically (temporary file, then rename). */
export async function writeManifest(entryDir: string, manifest: ModelManifest): Promise<void> {
  const text = `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`;
  await writeFileAtomic(`${entryDir}/${MANIFEST_FILE}`, new TextEncoder().encode(text));
}

/** Removes the manifest of `entryDir`, if any. */
export async function removeManifest(entryDir: string): Promise<void> {
  await Deno.remove(`${entryDir}/${MANIFEST_FILE}`).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}
