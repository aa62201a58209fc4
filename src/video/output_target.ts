/**
 * What `--output` names: a file whose extension picks the container, or `-` for standard output.
 * @module
 */

/** Containers the encoder writes, by ffmpeg muxer name. */
export type Container = "mp4" | "mov" | "matroska" | "nut" | "avi" | "mpegts";

/** Containers accepted for `-` (streamable without seeking). */
export const STREAM_CONTAINERS: readonly Container[] = ["nut", "matroska", "mpegts"];

/** File extensions and the container each implies. */
export const CONTAINER_BY_EXTENSION: Readonly<Record<string, Container>> = {
  mp4: "mp4",
  m4v: "mp4",
  mov: "mov",
  mkv: "matroska",
  nut: "nut",
  avi: "avi",
  ts: "mpegts",
  mts: "mpegts",
};

/** A parsed output. */
export interface OutputTarget {
  readonly kind: "file" | "stdout";
  /** The file path; `-` for standard output. */
  readonly path: string;
  readonly container: Container;
}

/** Raised for an output that cannot be written as asked; the message is one line. */
export class OutputTargetError extends Error {
  override name = "OutputTargetError";
}

/**
 * Parses an output specification; `format` overrides the container implied by the extension.
 *
 * @example
 * ```ts
 * parseOutputTarget("out.mkv").container; // "matroska"
 * parseOutputTarget("-").container; // "nut"
 * parseOutputTarget("-", "matroska").container; // "matroska"
 * ```
 */
export function parseOutputTarget(spec: string, format?: Container): OutputTarget {
  if (spec === "-") {
    const container = format ?? "nut";
    if (!STREAM_CONTAINERS.includes(container)) {
      throw new OutputTargetError(
        `container ${container} cannot be streamed to standard output (use ${
          STREAM_CONTAINERS.join(", ")
        })`,
      );
    }
    return { kind: "stdout", path: "-", container };
  }
  const extension = /\.([A-Za-z0-9]+)$/.exec(spec)?.[1]?.toLowerCase();
  const container = format ?? (extension ? CONTAINER_BY_EXTENSION[extension] : undefined);
  if (!container) {
    throw new OutputTargetError(
      `cannot tell the container of "${spec}" from its extension (use .${
        Object.keys(CONTAINER_BY_EXTENSION).join(", .")
      })`,
    );
  }
  return { kind: "file", path: spec, container };
}
