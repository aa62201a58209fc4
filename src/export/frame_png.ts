/**
 * A single frame (for example an overlay of one image) as an RGB PNG.
 * @module
 */
import type { Frame } from "../frame.ts";
import { encodePng } from "./png.ts";

/**
 * Encodes a frame's rgb24 pixels as an 8-bit RGB PNG.
 *
 * @example
 * ```ts
 * await Deno.writeFile("overlay.png", encodeFramePng(renderOverlay(frame, masks)));
 * ```
 */
export function encodeFramePng(frame: Frame): Uint8Array {
  return encodePng({ kind: "rgb8", width: frame.width, height: frame.height, data: frame.data });
}
