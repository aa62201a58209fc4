/**
 * The checkpoints the tool knows by name: where each comes from and what a good download
 * looks like.
 *
 * Exact byte sizes and SHA-256 digests of the official files are NOT recorded yet: this
 * registry was written on a machine without internet access, so nobody here has seen the
 * files. What is known is that each is a float32 PyTorch state dict of the `vit_t`
 * architecture, about 40 MB (the published files are roughly 38-41 MB). A download is
 * therefore accepted when its size matches the server's Content-Length (when one is sent)
 * and falls inside `expectedBytes`, and, once a digest is filled in below, when its SHA-256
 * matches. The checkpoint reader then validates every key and shape before a graph is
 * built, which is what catches a file of the right size with the wrong content. Fill in
 * `sha256` (and narrow `expectedBytes`) from a trusted download when one is at hand.
 * @module
 */
import type { ByteRange } from "../src/model/download.ts";
import { UnknownModelError } from "../src/model/model_error.ts";

/** Architecture of a checkpoint; TinySAM and MobileSAM share TinyViT-5M + SAM's decoder. */
export type Architecture = "vit_t";

/** One known checkpoint. */
export interface RegistryModel {
  /** Name used on the command line (`--model`, `model:fetch NAME`) and as the cache directory. */
  readonly name: string;
  /** One line for listings. */
  readonly description: string;
  readonly architecture: Architecture;
  /** Where the official file is published. */
  readonly url: string;
  /** Last path segment of `url`; a mirror serves the same file under `<mirror>/<fileName>`. */
  readonly fileName: string;
  /** COCO zero-shot instance segmentation AP reported by the authors. */
  readonly cocoAp: number;
  /** Sizes a download may have. */
  readonly expectedBytes: ByteRange;
  /** Lower-case hex SHA-256 of the official file, or null while unknown. */
  readonly sha256: string | null;
}

/** Name of the model used when none is given. */
export const DEFAULT_MODEL = "tinysam-42.3";

/** About 40 MB float32 state dicts; see the module note on why this is a range. */
const VIT_T_CHECKPOINT_BYTES: ByteRange = { min: 35_000_000, max: 45_000_000 };

/** Every checkpoint known by name, the default first. */
export const MODEL_REGISTRY: readonly RegistryModel[] = [
  {
    name: "tinysam-42.3",
    description: "TinySAM 3.0 release (default)",
    architecture: "vit_t",
    url: "https://github.com/xinghaochen/TinySAM/releases/download/3.0/tinysam_42.3.pth",
    fileName: "tinysam_42.3.pth",
    cocoAp: 42.3,
    expectedBytes: VIT_T_CHECKPOINT_BYTES,
    sha256: null,
  },
  {
    name: "tinysam-41.9",
    description: "TinySAM 1.0 release",
    architecture: "vit_t",
    url: "https://github.com/xinghaochen/TinySAM/releases/download/1.0/tinysam.pth",
    fileName: "tinysam.pth",
    cocoAp: 41.9,
    expectedBytes: VIT_T_CHECKPOINT_BYTES,
    sha256: null,
  },
  {
    name: "mobilesam",
    description: "MobileSAM (same architecture)",
    architecture: "vit_t",
    url: "https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt",
    fileName: "mobile_sam.pt",
    cocoAp: 41.0,
    expectedBytes: VIT_T_CHECKPOINT_BYTES,
    sha256: null,
  },
];

/** The registry entry called `name`, or undefined. */
export function findRegistryModel(name: string): RegistryModel | undefined {
  return MODEL_REGISTRY.find((model) => model.name === name);
}

/**
 * The registry entry called `name`; throws a one-line {@link UnknownModelError} listing the known
 * names otherwise.
 *
 * @example
 * ```ts
 * import { registryModel } from "./registry.ts";
 *
 * const model = registryModel("tinysam-42.3");
 * console.log(model.url, model.expectedBytes);
 * ```
 */
export function registryModel(name: string): RegistryModel {
  const model = findRegistryModel(name);
  if (!model) throw new UnknownModelError(unknownModelMessage(name, []));
  return model;
}

/** One line naming an unknown model and listing the registry's names (and any cached ones). */
export function unknownModelMessage(name: string, cachedNames: readonly string[]): string {
  const known = MODEL_REGISTRY.map((model) => model.name);
  const others = cachedNames.filter((cached) => !known.includes(cached));
  const cached = others.length > 0 ? `; built from local files: ${others.join(", ")}` : "";
  return `unknown model '${name}'; known models: ${known.join(", ")}${cached}`;
}

/**
 * Where to download `model` from: its official URL, or `<mirror>/<fileName>` when a mirror
 * base URL is given (env `TINYSAM_MODEL_MIRROR`: mirrors, air-gapped setups, tests).
 *
 * @example
 * ```ts
 * import { downloadUrl, registryModel } from "./registry.ts";
 *
 * downloadUrl(registryModel("mobilesam"), "http://10.0.0.5/models/");
 * // "http://10.0.0.5/models/mobile_sam.pt"
 * ```
 */
export function downloadUrl(model: RegistryModel, mirror?: string | null): string {
  if (!mirror) return model.url;
  return `${mirror.replace(/\/+$/, "")}/${model.fileName}`;
}
