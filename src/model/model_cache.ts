/**
 * The model cache: `models/cache/<name>/` holds a checkpoint (downloaded, or copied when a
 * local file is imported under a registry name), the graphs built from it per precision,
 * and `manifest.json` recording both. {@link ensureModel} is the one door: it downloads and
 * builds only what is missing or stale (another checkpoint digest, another builder version,
 * other build inputs, a graph file gone) and returns the graph paths.
 * @module
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  downloadUrl,
  findRegistryModel,
  type RegistryModel,
  unknownModelMessage,
} from "../../models/registry.ts";
import { BUILDER_VERSION, type GraphFiles } from "./build.ts";
import { withFileLock } from "./cache_lock.ts";
import { CheckpointError } from "./checkpoint/errors.ts";
import { downloadFile, type DownloadProgress, PARTIAL_SUFFIX } from "./download.ts";
import { formatMegabyteRange, formatMegabytes } from "./megabytes.ts";
import { ModelError, UnknownModelError } from "./model_error.ts";
import {
  type CheckpointSource,
  MANIFEST_FORMAT,
  type ModelManifest,
  type PrecisionRecord,
  readManifest,
  removeManifest,
  writeManifest,
} from "./model_manifest.ts";
import { type Precision, PRECISIONS } from "./precision.ts";
import { PRECISION_BUILDERS, type PrecisionBuildOptions } from "./precision_builders.ts";
import { isValidModelName } from "./model_name.ts";
import { sha256File } from "./sha256_file.ts";

/** File name of a checkpoint kept inside a cache entry. */
export const CHECKPOINT_FILE = "checkpoint.pth";

/** Env variable naming the cache directory (default: the repository's `models/cache`). */
export const CACHE_DIR_ENV = "TINYSAM_CACHE_DIR";

/** Env variable naming a mirror base URL that replaces every registry URL's host and path. */
export const MIRROR_ENV = "TINYSAM_MODEL_MIRROR";

/** Which model to make ready: a registry (or previously built) name, or a local checkpoint file. */
export type ModelSource =
  | { readonly model: string }
  | {
    readonly checkpoint: string;
    /** Cache entry name (default `local-<first 12 hex of the file's SHA-256>`). */
    readonly name?: string;
  };

/** Options of {@link ensureModel}. */
export interface EnsureModelOptions {
  readonly precision: Precision;
  /** Cache directory (default: env `TINYSAM_CACHE_DIR`, else the repository's `models/cache`). */
  readonly cacheDir?: string;
  /** Mirror base URL (default: env `TINYSAM_MODEL_MIRROR`); downloads `<mirror>/<file name>`. */
  readonly mirror?: string | null;
  /** One line per step: downloading, building, waiting for another process. */
  readonly onProgress?: (line: string) => void;
  /** Bytes of a download as they arrive. */
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Give up a download when no byte arrives for this long (default 60 000 ms). */
  readonly downloadIdleTimeoutMs?: number;
  /** Frames to calibrate quantized graphs on (a video, an image or a directory of them). */
  readonly calibration?: string;
}

/** A model ready to load. */
export interface ResolvedModel {
  /** Cache entry name, e.g. `tinysam-42.3` or `local-d014168c8b5f`. */
  readonly name: string;
  /** Absolute path of the cache entry. */
  readonly dir: string;
  readonly precision: Precision;
  /** Absolute path of the encoder graph. */
  readonly encoder: string;
  /** Absolute path of the decoder graph. */
  readonly decoder: string;
  readonly checkpointSha256: string;
  /** Whether this call downloaded the checkpoint. */
  readonly downloaded: boolean;
  /** Whether this call built graphs (of this precision or one it depends on). */
  readonly built: boolean;
}

/** A cache entry as `--list` shows it. */
export interface CachedModel {
  readonly name: string;
  readonly dir: string;
  readonly manifest: ModelManifest;
  /** Precisions with graphs recorded, and whether they are current (would not be rebuilt). */
  readonly graphs: readonly { readonly precision: string; readonly current: boolean }[];
}

/** What the caller asked for, resolved to a cache entry. */
interface Target {
  readonly name: string;
  readonly registry: RegistryModel | null;
  readonly local: LocalCheckpoint | null;
}

interface LocalCheckpoint {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** The checkpoint a build reads. */
interface EntryCheckpoint {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly source: CheckpointSource;
  /** Name of the copy inside the entry, or null when a local file is used in place. */
  readonly file: string | null;
  readonly downloaded: boolean;
}

/**
 * The cache directory: env `TINYSAM_CACHE_DIR` when set, else `models/cache` of this
 * repository (resolved from this module's location, not the working directory).
 */
export function defaultCacheDir(): string {
  const fromEnv = Deno.env.get(CACHE_DIR_ENV);
  if (fromEnv) return resolve(fromEnv);
  return fileURLToPath(new URL("../../models/cache", import.meta.url));
}

/** Cache entry name of a local checkpoint: `local-` and the first 12 hex digits of its SHA-256. */
export function localModelName(sha256: string): string {
  return `local-${sha256.slice(0, 12)}`;
}

/**
 * Makes a model ready to load: resolves the name (or hashes the local checkpoint), and,
 * only when the cache does not already hold current graphs, downloads the checkpoint (for a
 * registry model) and builds the graphs of `options.precision`, recording both in the
 * entry's manifest. One process at a time works on an entry (a lock file beside it); every
 * file is written to a temporary name and renamed, so an interrupted run leaves either the
 * old state or nothing, never a half-written file a later run would trust.
 *
 * Errors are one line: {@link UnknownModelError} (a name neither registered nor cached),
 * {@link ModelError} (download failure, missing or changed file)
 * or `CheckpointError` (a file that is not a valid checkpoint of this architecture; a
 * downloaded or copied checkpoint that fails so is removed from the cache).
 *
 * @example
 * ```ts ignore
 * import { ensureModel } from "./model_cache.ts";
 * import { terminalProgress } from "./terminal_progress.ts";
 *
 * const model = await ensureModel({ model: "tinysam-42.3" }, { precision: "fp32", ...terminalProgress() });
 * // or, from a file the user downloaded: ensureModel({ checkpoint: "tinysam_42.3.pth" }, { precision: "fp32" })
 * console.log(model.encoder, model.decoder);
 * ```
 */
export async function ensureModel(
  source: ModelSource,
  options: EnsureModelOptions,
): Promise<ResolvedModel> {
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
  const precision = options.precision;
  if (!(precision in PRECISION_BUILDERS)) {
    throw new ModelError(`unknown precision '${precision}'; known: ${PRECISIONS.join(", ")}`);
  }
  const target = await resolveTarget(source, cacheDir);
  const dir = `${cacheDir}/${target.name}`;

  const ready = await currentGraphs(await readManifest(dir), target, dir, precision, options);
  if (ready) return resolved(target.name, dir, precision, ready, false, false);

  await Deno.mkdir(cacheDir, { recursive: true });
  const onProgress = options.onProgress ?? (() => {});
  return await withFileLock(
    `${dir}.lock`,
    () => fillEntry(target, dir, precision, options, onProgress),
    { onWait: (holder) => onProgress(`waiting for ${holder}, which is preparing ${target.name}`) },
  );
}

/**
 * Every cache entry with a readable manifest, by name.
 *
 * @example
 * ```ts ignore
 * import { listCachedModels } from "./model_cache.ts";
 *
 * for (const entry of await listCachedModels()) console.log(entry.name, entry.graphs);
 * ```
 */
export async function listCachedModels(
  cacheDir: string = defaultCacheDir(),
): Promise<CachedModel[]> {
  const entries: CachedModel[] = [];
  let listing: Deno.DirEntry[];
  try {
    listing = await Array.fromAsync(Deno.readDir(cacheDir));
  } catch {
    return entries;
  }
  for (const item of listing.filter((item) => item.isDirectory)) {
    const dir = resolve(cacheDir, item.name);
    const manifest = await readManifest(dir);
    if (!manifest || manifest.model !== item.name) continue;
    const graphs = [];
    for (const [precision, record] of Object.entries(manifest.graphs)) {
      const builder = PRECISION_BUILDERS[precision as Precision];
      const current = builder !== undefined &&
        (await recordIsCurrent(record, manifest.checkpoint.sha256, await builder.inputs({}), dir));
      graphs.push({ precision, current });
    }
    entries.push({ name: item.name, dir, manifest, graphs });
  }
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

async function resolveTarget(source: ModelSource, cacheDir: string): Promise<Target> {
  if ("model" in source) {
    const registry = findRegistryModel(source.model);
    if (registry) return { name: registry.name, registry, local: null };
    if (isValidModelName(source.model) && (await readManifest(`${cacheDir}/${source.model}`))) {
      return { name: source.model, registry: null, local: null };
    }
    const cached = (await listCachedModels(cacheDir)).map((entry) => entry.name);
    throw new UnknownModelError(unknownModelMessage(source.model, cached));
  }
  const local = await inspectLocalCheckpoint(source.checkpoint);
  const name = source.name ?? localModelName(local.sha256);
  if (!isValidModelName(name)) {
    throw new ModelError(
      `invalid model name '${name}': use letters, digits, '.', '_' and '-' (at most 64 characters)`,
    );
  }
  const registry = findRegistryModel(name) ?? null;
  if (registry) checkAgainstRegistry(local, registry);
  return { name, registry, local };
}

async function inspectLocalCheckpoint(path: string): Promise<LocalCheckpoint> {
  const absolute = resolve(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(absolute);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelError(`checkpoint file not found: ${path}`);
    }
    throw new ModelError(`cannot read checkpoint ${path}: ${(error as Error).message}`);
  }
  if (!info.isFile) throw new ModelError(`checkpoint ${path} is not a file`);
  return { path: absolute, sha256: await sha256File(absolute), bytes: info.size };
}

/** A local file imported under a registry name must look like that model's download. */
function checkAgainstRegistry(local: LocalCheckpoint, registry: RegistryModel): void {
  const { min, max } = registry.expectedBytes;
  if (local.bytes < min || local.bytes > max) {
    throw new ModelError(
      `${local.path} is ${formatMegabytes(local.bytes)}, but ${registry.name} checkpoints are ${
        formatMegabyteRange(registry.expectedBytes)
      }`,
    );
  }
  if (registry.sha256 !== null && registry.sha256 !== local.sha256) {
    throw new ModelError(
      `${local.path} has SHA-256 ${local.sha256}, but ${registry.name} is ${registry.sha256}`,
    );
  }
}

/** The graph files of `precision` if the manifest says they are current for `target`, else null. */
async function currentGraphs(
  manifest: ModelManifest | null,
  target: Target,
  dir: string,
  precision: Precision,
  buildOptions: PrecisionBuildOptions,
): Promise<{ files: GraphFiles; sha256: string } | null> {
  if (!manifest || manifest.model !== target.name) return null;
  const sha256 = manifest.checkpoint.sha256;
  if (target.local && target.local.sha256 !== sha256) return null;
  if (target.registry?.sha256 && target.registry.sha256 !== sha256) return null;
  const record = manifest.graphs[precision];
  const inputs = await PRECISION_BUILDERS[precision].inputs(buildOptions);
  if (!record || !(await recordIsCurrent(record, sha256, inputs, dir))) return null;
  return { files: absoluteFiles(dir, record.files), sha256 };
}

async function recordIsCurrent(
  record: PrecisionRecord,
  checkpointSha256: string,
  inputs: Readonly<Record<string, string>>,
  dir: string,
): Promise<boolean> {
  return record.builderVersion === BUILDER_VERSION &&
    record.checkpointSha256 === checkpointSha256 &&
    satisfiesInputs(record.inputs, inputs) &&
    (await isFile(`${dir}/${record.files.encoder}`)) &&
    (await isFile(`${dir}/${record.files.decoder}`));
}

/** Downloads and builds what is missing; runs holding the entry's lock. */
async function fillEntry(
  target: Target,
  dir: string,
  precision: Precision,
  options: EnsureModelOptions,
  onProgress: (line: string) => void,
): Promise<ResolvedModel> {
  // Another process may have finished the work while this one waited for the lock.
  let manifest = await readManifest(dir);
  const ready = await currentGraphs(manifest, target, dir, precision, options);
  if (ready) return resolved(target.name, dir, precision, ready, false, false);

  await Deno.mkdir(dir, { recursive: true });
  try {
    await removeStaleTemporaries(dir);
    if (manifest && manifest.model !== target.name) manifest = null;
    const checkpoint = await entryCheckpoint(target, dir, manifest, options, onProgress);
    if (manifest && manifest.checkpoint.sha256 !== checkpoint.sha256) {
      // Its graphs belong to another checkpoint: stop claiming them before anything is rebuilt.
      await removeManifest(dir);
      manifest = null;
    }
    const state: ModelManifest = {
      format: MANIFEST_FORMAT,
      model: target.name,
      architecture: target.registry?.architecture ?? manifest?.architecture ?? "vit_t",
      source: checkpoint.source,
      checkpoint: { sha256: checkpoint.sha256, bytes: checkpoint.bytes, file: checkpoint.file },
      graphs: { ...manifest?.graphs },
    };
    let built = false;
    const ensurePrecision = async (wanted: Precision): Promise<GraphFiles> => {
      const builder = PRECISION_BUILDERS[wanted];
      const inputs = await builder.inputs(options);
      const record = state.graphs[wanted];
      if (record && (await recordIsCurrent(record, checkpoint.sha256, inputs, dir))) {
        return absoluteFiles(dir, record.files);
      }
      const dependencies: Partial<Record<Precision, GraphFiles>> = {};
      for (const dependency of builder.dependsOn) {
        dependencies[dependency] = await ensurePrecision(dependency);
      }
      if (record) {
        delete state.graphs[wanted];
        await writeManifest(dir, state);
      }
      onProgress(`building ${wanted} graphs of ${target.name} from ${checkpoint.path}`);
      const started = performance.now();
      const result = await builder.build({
        checkpointPath: checkpoint.path,
        outDir: dir,
        dependencies,
        onProgress,
        options,
      });
      const buildSeconds = Math.round(performance.now() - started) / 1000;
      state.graphs[wanted] = {
        builderVersion: BUILDER_VERSION,
        checkpointSha256: checkpoint.sha256,
        inputs: { ...(result.inputs ?? inputs) },
        files: relativeFiles(dir, result.files),
        builtAt: new Date().toISOString(),
        buildSeconds,
        details: { ...result.details },
      };
      await writeManifest(dir, state);
      built = true;
      onProgress(`built ${wanted} graphs of ${target.name} in ${buildSeconds.toFixed(1)} s`);
      return result.files;
    };
    try {
      const files = await ensurePrecision(precision);
      const ready = { files, sha256: checkpoint.sha256 };
      return resolved(target.name, dir, precision, ready, checkpoint.downloaded, built);
    } catch (error) {
      if (error instanceof CheckpointError) {
        // The checkpoint itself is bad: keep nothing that refers to it.
        await removeManifest(dir);
        if (checkpoint.file) await Deno.remove(`${dir}/${checkpoint.file}`).catch(() => {});
      }
      throw error;
    }
  } finally {
    await Deno.remove(dir).catch(() => {}); // only succeeds when the entry ended up empty
  }
}

/** Finds, copies or downloads the checkpoint the entry's graphs are built from. */
async function entryCheckpoint(
  target: Target,
  dir: string,
  manifest: ModelManifest | null,
  options: EnsureModelOptions,
  onProgress: (line: string) => void,
): Promise<EntryCheckpoint> {
  const kept = `${dir}/${CHECKPOINT_FILE}`;
  const { local, registry } = target;

  if (local) {
    const source: CheckpointSource = { kind: "file", path: local.path };
    if (!registry) return { ...local, source, file: null, downloaded: false };
    // Imported under a registry name: keep a copy, as a download would be kept.
    if (!(manifest?.checkpoint.sha256 === local.sha256 && (await sizeOf(kept)) === local.bytes)) {
      const temporary = `${kept}.${Deno.pid}${PARTIAL_SUFFIX}`;
      try {
        await Deno.copyFile(local.path, temporary);
        await Deno.rename(temporary, kept);
      } catch (error) {
        await Deno.remove(temporary).catch(() => {});
        throw new ModelError(`cannot copy ${local.path} into ${dir}: ${(error as Error).message}`);
      }
    }
    return {
      path: kept,
      sha256: local.sha256,
      bytes: local.bytes,
      source,
      file: CHECKPOINT_FILE,
      downloaded: false,
    };
  }

  if (registry) {
    if (
      manifest?.checkpoint.file &&
      (await sizeOf(`${dir}/${manifest.checkpoint.file}`)) === manifest.checkpoint.bytes &&
      (registry.sha256 === null || registry.sha256 === manifest.checkpoint.sha256)
    ) {
      const { sha256, bytes, file } = manifest.checkpoint;
      return {
        path: `${dir}/${file}`,
        sha256,
        bytes,
        source: manifest.source,
        file,
        downloaded: false,
      };
    }
    const url = downloadUrl(
      registry,
      options.mirror !== undefined ? options.mirror : Deno.env.get(MIRROR_ENV),
    );
    const leftover = await sizeOf(kept);
    if (leftover !== null) {
      // Complete (it was renamed into place) but never recorded, as after a crash: reuse it if it
      // still looks right. Where it came from is no longer known, so the source is the file.
      const sha256 = await sha256File(kept);
      const { min, max } = registry.expectedBytes;
      if (
        leftover >= min && leftover <= max &&
        (registry.sha256 === null || registry.sha256 === sha256)
      ) {
        return {
          path: kept,
          sha256,
          bytes: leftover,
          source: { kind: "file", path: kept },
          file: CHECKPOINT_FILE,
          downloaded: false,
        };
      }
      await Deno.remove(kept);
    }
    onProgress(`downloading ${registry.name} from ${url}`);
    const file = await downloadFile(url, kept, {
      expected: { bytes: registry.expectedBytes, sha256: registry.sha256 },
      onProgress: options.onDownloadProgress,
      idleTimeoutMs: options.downloadIdleTimeoutMs,
    });
    onProgress(`downloaded ${formatMegabytes(file.bytes)}, SHA-256 ${file.sha256}`);
    return {
      path: kept,
      sha256: file.sha256,
      bytes: file.bytes,
      source: { kind: "url", url },
      file: CHECKPOINT_FILE,
      downloaded: true,
    };
  }

  // A name built earlier from a local file: rebuilding needs that file, unchanged.
  if (!manifest) throw new UnknownModelError(unknownModelMessage(target.name, []));
  const { sha256, bytes, file } = manifest.checkpoint;
  if (file && (await sizeOf(`${dir}/${file}`)) === bytes) {
    return {
      path: `${dir}/${file}`,
      sha256,
      bytes,
      source: manifest.source,
      file,
      downloaded: false,
    };
  }
  const origin = manifest.source.kind === "file" ? manifest.source.path : manifest.source.url;
  const rebuildHint =
    `rebuild it with deno task model:build --checkpoint FILE --name ${target.name}`;
  if (
    manifest.source.kind !== "file" || (await sizeOf(origin)) !== bytes ||
    (await sha256File(origin)) !== sha256
  ) {
    throw new ModelError(
      `cache entry '${target.name}' was built from ${origin}, which is gone or has changed; ${rebuildHint}`,
    );
  }
  return { path: origin, sha256, bytes, source: manifest.source, file: null, downloaded: false };
}

function resolved(
  name: string,
  dir: string,
  precision: Precision,
  ready: { files: GraphFiles; sha256: string },
  downloaded: boolean,
  built: boolean,
): ResolvedModel {
  return {
    name,
    dir,
    precision,
    encoder: ready.files.encoder,
    decoder: ready.files.decoder,
    checkpointSha256: ready.sha256,
    downloaded,
    built,
  };
}

/** Removes temporary files left by a run that was killed; only called holding the lock. */
async function removeStaleTemporaries(dir: string): Promise<void> {
  for await (const item of Deno.readDir(dir)) {
    if (item.isFile && item.name.endsWith(PARTIAL_SUFFIX)) {
      await Deno.remove(`${dir}/${item.name}`).catch(() => {});
    }
  }
}

function absoluteFiles(dir: string, files: GraphFiles): GraphFiles {
  return { encoder: resolve(dir, files.encoder), decoder: resolve(dir, files.decoder) };
}

function relativeFiles(dir: string, files: GraphFiles): GraphFiles {
  const relative = (path: string) => {
    const absolute = resolve(path);
    if (!absolute.startsWith(`${dir}/`)) {
      throw new Error(`graph ${absolute} was written outside ${dir}`);
    }
    return absolute.slice(dir.length + 1);
  };
  return { encoder: relative(files.encoder), decoder: relative(files.decoder) };
}

/**
 * Whether graphs built from `recorded` inputs serve a request for `requested` ones: every input
 * the request names must match (an input the request leaves open, such as "whatever calibration
 * the int8 graphs were built with", accepts any recorded value).
 */
function satisfiesInputs(
  recorded: Readonly<Record<string, string>>,
  requested: Readonly<Record<string, string>>,
): boolean {
  return Object.keys(requested).every((key) => recorded[key] === requested[key]);
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info.size : null;
  } catch {
    return null;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await sizeOf(path)) !== null;
}
