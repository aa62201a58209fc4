/**
 * `--masks-json`: JSON lines, one per frame,
 * `{"frame", "time", "width", "height", "objects": [{"id", "score", "bbox": [x, y, w, h],
 * "segmentation": {"size": [h, w], "counts": [...]}, "label"?}]}`, where `segmentation` is a
 * COCO RLE (column-major, starting with zeros, as pycocotools writes). Objects may overlap.
 * @module
 */
import type { OperatorFunction } from "rxjs";
import { z } from "zod";
import type { FrameMasks, ObjectMask, SegmentedFrame } from "../segment/mask.ts";
import { decodeRle, encodeRle, rleFromJson, rleToBbox } from "../segment/rle.ts";
import { writeInOrder } from "./ordered_writer.ts";

/**
 * One frame's masks as a JSON line (without the newline). Boxes are recomputed from the masks.
 *
 * @example
 * ```ts
 * const line = frameMasksToJsonLine(frameMasks); // '{"frame":0,"time":0,"width":640,...}'
 * ```
 */
export function frameMasksToJsonLine(masks: FrameMasks): string {
  return JSON.stringify({
    frame: masks.frameIndex,
    time: masks.ptsSeconds,
    width: masks.width,
    height: masks.height,
    objects: masks.objects.map((object) => {
      if (object.mask.width !== masks.width || object.mask.height !== masks.height) {
        throw new Error(
          `object ${object.id} mask is ${object.mask.width}x${object.mask.height}, frame ${masks.frameIndex} is ${masks.width}x${masks.height}`,
        );
      }
      const rle = encodeRle(object.mask);
      return {
        id: object.id,
        score: object.score,
        bbox: rleToBbox(rle),
        segmentation: { size: rle.size, counts: rle.counts },
        ...(object.label !== undefined ? { label: object.label } : {}),
      };
    }),
  });
}

const rleSchema = z.object({
  size: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  counts: z.union([z.array(z.number().int().nonnegative()), z.string()]),
});

const lineSchema = z.object({
  frame: z.number().int().nonnegative(),
  time: z.number().nullable(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  objects: z.array(z.object({
    id: z.number().int().positive(),
    score: z.number(),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]),
    segmentation: rleSchema,
    label: z.string().optional(),
  })),
});

/**
 * Parses one JSON line back into `FrameMasks` (RLE counts may be a number array or the
 * pycocotools compressed string). Throws a one-line error saying what is wrong.
 *
 * @example
 * ```ts
 * const masks = frameMasksFromJsonLine(line);
 * ```
 */
export function frameMasksFromJsonLine(line: string): FrameMasks {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error("not valid JSON");
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.join(".") || "line"}: ${issue.message}`);
  }
  const { frame, time, width, height } = parsed.data;
  const objects: ObjectMask[] = parsed.data.objects.map((object) => {
    const rle = rleFromJson(object.segmentation);
    if (rle.size[0] !== height || rle.size[1] !== width) {
      throw new Error(
        `object ${object.id}: segmentation size [${rle.size}] is not [${height}, ${width}]`,
      );
    }
    const [x, y, w, h] = object.bbox;
    return {
      id: object.id,
      mask: decodeRle(rle),
      score: object.score,
      bbox: [x, y, w, h],
      ...(object.label !== undefined ? { label: object.label } : {}),
    };
  });
  // JSON cannot hold NaN: an unknown time is written as null and read back as NaN.
  return { frameIndex: frame, ptsSeconds: time ?? NaN, width, height, objects };
}

/**
 * Stage that appends one JSON line per frame to `path` (created or truncated on the first frame's
 * arrival or at completion) and passes the frame on once its line is written. The file is closed
 * on complete, error and unsubscribe; the stream completes only after the file is closed.
 *
 * @example
 * ```ts
 * segmented$.pipe(writeMasksJsonl("out/masks.jsonl")).subscribe();
 * ```
 */
export function writeMasksJsonl(path: string): OperatorFunction<SegmentedFrame, SegmentedFrame> {
  const encoder = new TextEncoder();
  return writeInOrder<SegmentedFrame>(() => {
    let file: Deno.FsFile | undefined;
    return {
      open: async () => {
        try {
          file = await Deno.open(path, { write: true, create: true, truncate: true });
        } catch (error) {
          throw new Error(`cannot write masks JSON ${path}: ${(error as Error).message}`);
        }
      },
      write: async (item) => {
        const bytes = encoder.encode(frameMasksToJsonLine(item.masks) + "\n");
        let written = 0;
        while (written < bytes.length) written += await file!.write(bytes.subarray(written));
      },
      close: () => {
        file?.close();
        return Promise.resolve();
      },
    };
  });
}

/**
 * Reads a masks JSONL file frame by frame, streaming line by line; errors name the file and line.
 *
 * @example
 * ```ts
 * for await (const masks of readMasksJsonl("out/masks.jsonl")) console.log(masks.frameIndex);
 * ```
 */
export async function* readMasksJsonl(path: string): AsyncGenerator<FrameMasks> {
  let file: Deno.FsFile;
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new Error("is a directory");
    file = await Deno.open(path, { read: true });
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : (error as Error).message;
    throw new Error(`masks JSON ${path} ${reason}`);
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending = "";
  let lineNumber = 0;
  let frames = 0;
  const parse = (line: string): FrameMasks => {
    try {
      return frameMasksFromJsonLine(line);
    } catch (error) {
      throw new Error(`${path}:${lineNumber}: ${(error as Error).message}`);
    }
  };
  try {
    for await (const chunk of file.readable) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw new Error(`${path}: not UTF-8 text`);
      }
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        lineNumber++;
        if (line.trim() === "") continue;
        frames++;
        yield parse(line);
      }
    }
    if (pending.trim() !== "") {
      lineNumber++;
      frames++;
      yield parse(pending);
    }
  } finally {
    try {
      file.close();
    } catch {
      // `readable` closes the file when fully consumed.
    }
  }
  if (frames === 0) throw new Error(`masks JSON ${path} holds no frames`);
}
