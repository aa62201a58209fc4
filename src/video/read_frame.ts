/**
 * Reading exactly one raw frame from a byte stream, straight into the frame's own buffer.
 * @module
 */

/** The stream ended in the middle of a frame (the producer died or the data is truncated). */
export class TruncatedFrameError extends Error {
  override name = "TruncatedFrameError";
  constructor(readonly bytesRead: number, readonly frameBytes: number) {
    super(`stream ended after ${bytesRead} of ${frameBytes} bytes of a frame`);
  }
}

/**
 * Reads `frameBytes` bytes with a BYOB reader, into `into` when given (it is transferred: use the
 * returned view's buffer). Returns `null` at a clean end of stream (no byte of a new frame read)
 * and throws {@link TruncatedFrameError} when the stream ends mid-frame.
 * Only as many bytes as one frame are requested, so nothing is read ahead of demand.
 *
 * @example
 * ```ts
 * const reader = child.stdout.getReader({ mode: "byob" });
 * const rgb = await readFrameBytes(reader, width * height * 3);
 * ```
 */
export async function readFrameBytes(
  reader: ReadableStreamBYOBReader,
  frameBytes: number,
  into: ArrayBuffer = new ArrayBuffer(frameBytes),
): Promise<Uint8Array | null> {
  let buffer = into;
  let filled = 0;
  while (filled < frameBytes) {
    const { value, done } = await reader.read(
      new Uint8Array(buffer, filled, frameBytes - filled),
    );
    if (value) {
      // BYOB reads transfer the buffer: continue in the returned one.
      buffer = value.buffer as ArrayBuffer;
      filled += value.byteLength;
    }
    if (done) break;
  }
  if (filled === 0) return null;
  if (filled < frameBytes) throw new TruncatedFrameError(filled, frameBytes);
  return new Uint8Array(buffer, 0, frameBytes);
}
