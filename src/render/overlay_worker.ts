/**
 * The worker side of `drawOverlayInWorker`: draws one frame's masks at a time with
 * {@link renderOverlay} and sends the drawn pixels back.
 * @module
 */
/// <reference lib="deno.worker" />
import type { Frame } from "../frame.ts";
import type { FrameMasks } from "../segment/mask.ts";
import { type OverlayOptions, renderOverlay } from "./overlay.ts";

/** A frame to draw (`colorsOf` cannot cross to a worker: default colours are used). */
export interface OverlayRequest {
  readonly id: number;
  readonly frame: Omit<Frame, "capturedAtMs">;
  readonly masks: FrameMasks;
  readonly options: Omit<OverlayOptions, "colorsOf">;
}

/** The drawn pixels of request `id`, or why drawing failed. */
export type OverlayReply =
  | { readonly id: number; readonly ok: true; readonly data: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly error: string };

self.onmessage = (event: MessageEvent<OverlayRequest>) => {
  const { id, frame, masks, options } = event.data;
  try {
    const drawn = renderOverlay(frame, masks, options);
    self.postMessage({ id, ok: true, data: drawn.data } satisfies OverlayReply, {
      transfer: [drawn.data.buffer as ArrayBuffer],
    });
  } catch (error) {
    self.postMessage(
      {
        id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      } satisfies OverlayReply,
    );
  }
};
