/**
 * `--list`: the registry and what the cache holds, as a table for people.
 * @module
 */
import { DEFAULT_MODEL, MODEL_REGISTRY } from "../../models/registry.ts";
import { type CachedModel, defaultCacheDir, listCachedModels } from "../model/model_cache.ts";

/**
 * The table `--list` prints: every registry model (default marked `*`) with its COCO AP and
 * cache state, then entries built from local files.
 *
 * @example
 * ```ts
 * import { formatModelList } from "./model_list.ts";
 *
 * console.log(formatModelList([], "models/cache"));
 * ```
 */
export function formatModelList(cached: readonly CachedModel[], cacheDir: string): string {
  const byName = new Map(cached.map((entry) => [entry.name, entry]));
  const rows: string[][] = [["model", "COCO AP", "cache", "source"]];
  for (const model of MODEL_REGISTRY) {
    const marker = model.name === DEFAULT_MODEL ? " *" : "";
    rows.push([
      `${model.name}${marker}`,
      model.cocoAp.toFixed(1),
      cacheState(byName.get(model.name)),
      model.url,
    ]);
  }
  for (const entry of cached) {
    if (MODEL_REGISTRY.some((model) => model.name === entry.name)) continue;
    const source = entry.manifest.source;
    rows.push([
      entry.name,
      "-",
      cacheState(entry),
      source.kind === "file" ? source.path : source.url,
    ]);
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd()
  );
  return [...lines, "", `* default model; cache: ${cacheDir}`].join("\n");
}

/** Prints the `--list` table on stdout. */
export async function printModelList(): Promise<void> {
  const cacheDir = defaultCacheDir();
  console.log(formatModelList(await listCachedModels(cacheDir), cacheDir));
}

function cacheState(entry: CachedModel | undefined): string {
  if (!entry) return "not cached";
  if (entry.graphs.length === 0) return "checkpoint only";
  return entry.graphs.map(({ precision, current }) => `${precision}${current ? "" : " (stale)"}`)
    .join(", ");
}
