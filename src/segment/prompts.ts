/**
 * User prompts (points and boxes per object, possibly on later frames) from the prompts file and
 * from the command-line flags, as one typed list validated against the video's frame size.
 * The file format is the shared prompts schema (objects -> prompts with frame or time).
 * @module
 */
import { z } from "zod";
import type { BoxXyxy } from "./mask.ts";
import type { PointPrompt } from "./segmenter.ts";

/** When a prompt applies: a 0-based frame index or a time in seconds. */
export type PromptTime = { readonly frame: number } | { readonly timeSeconds: number };

/** One object's prompt on one frame. */
export interface ObjectPrompt {
  /** Object id, 1..65535. */
  readonly objectId: number;
  readonly label?: string;
  readonly at: PromptTime;
  /** Positive and negative points, in frame pixels of the decoded (rotated) video. */
  readonly points: readonly PointPrompt[];
  readonly box?: BoxXyxy;
  /** Where the prompt came from, for messages: `--point 120,80,2` or `p.json object 2 (objects[1]) prompts[0]`. */
  readonly origin: string;
}

/** What prompts are checked against. */
export interface PromptFrameBounds {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frameCount?: number;
  readonly durationSeconds?: number;
}

/** A prompt that cannot be used; the message is one line naming the prompt and the field. */
export class PromptError extends Error {
  override name = "PromptError";
}

/** Largest object id (label maps are at most 16-bit). */
export const MAX_OBJECT_ID = 65535;

const coordinate = z.number().check(z.refine(Number.isFinite, "must be a finite number"));
const pointSchema = z.tuple([coordinate, coordinate]);

const promptSchema = z.strictObject({
  frame: z.number().int().min(0).optional(),
  time: z.number().min(0).optional(),
  points: z.array(pointSchema).optional(),
  negativePoints: z.array(pointSchema).optional(),
  box: z.tuple([coordinate, coordinate, coordinate, coordinate]).optional(),
});

const objectSchema = z.strictObject({
  id: z.number().int().min(1).max(MAX_OBJECT_ID),
  label: z.string().optional(),
  prompts: z.array(promptSchema).min(1),
});

/** The zod schema of a prompts file (see the shared prompts schema notes). */
export const promptsFileSchema = z.strictObject({
  objects: z.array(objectSchema).min(1),
});

/** The parsed (not yet validated against a frame) content of a prompts file. */
export type PromptsFile = z.infer<typeof promptsFileSchema>;

/**
 * Parses prompts-file text. Malformed JSON, schema violations, duplicate ids, a prompt with both
 * `frame` and `time`, a prompt with neither points nor box and an inverted box each raise a
 * {@link PromptError} naming the file, the object and the field.
 *
 * @example
 * ```ts
 * const prompts = parsePromptsJson(
 *   '{"objects":[{"id":1,"prompts":[{"frame":0,"points":[[120,80]]}]}]}',
 *   "prompts.json",
 * );
 * prompts[0].points; // [{ x: 120, y: 80, positive: true }]
 * ```
 */
export function parsePromptsJson(text: string, fileName: string): ObjectPrompt[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PromptError(`${fileName}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = promptsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PromptError(
      `${fileName}: ${describeJsonPath(issue.path, json)}: ${issueMessage(issue)}`,
    );
  }
  const prompts: ObjectPrompt[] = [];
  const seenIds = new Map<number, number>();
  parsed.data.objects.forEach((object, objectIndex) => {
    const objectName = `${fileName}: object ${object.id} (objects[${objectIndex}])`;
    const earlier = seenIds.get(object.id);
    if (earlier !== undefined) {
      throw new PromptError(
        `${objectName}: id ${object.id} is already used by objects[${earlier}]`,
      );
    }
    seenIds.set(object.id, objectIndex);
    object.prompts.forEach((prompt, promptIndex) => {
      const origin = `${objectName} prompts[${promptIndex}]`;
      if (prompt.frame !== undefined && prompt.time !== undefined) {
        throw new PromptError(`${origin}: give either "frame" or "time", not both`);
      }
      if (!prompt.points?.length && !prompt.box) {
        throw new PromptError(`${origin}: needs "points" or "box"`);
      }
      if (prompt.box) checkBoxOrder(prompt.box, `${origin}.box`);
      prompts.push({
        objectId: object.id,
        label: object.label,
        at: prompt.time !== undefined ? { timeSeconds: prompt.time } : { frame: prompt.frame ?? 0 },
        points: [
          ...(prompt.points ?? []).map(([x, y]) => ({ x, y, positive: true })),
          ...(prompt.negativePoints ?? []).map(([x, y]) => ({ x, y, positive: false })),
        ],
        box: prompt.box,
        origin,
      });
    });
  });
  return prompts;
}

/**
 * Reads and parses a prompts file; an unreadable file is a {@link PromptError} too.
 *
 * @example
 * ```ts
 * const prompts = await readPromptsFile("samples/prompts.json");
 * ```
 */
export async function readPromptsFile(path: string): Promise<ObjectPrompt[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : error instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : `cannot be read (${(error as Error).message})`;
    throw new PromptError(`prompts file ${path} ${reason}`);
  }
  return parsePromptsJson(text, path);
}

/**
 * Syntax of the prompt flags, for help texts: `X,Y[,ID][@FRAME|@SECONDSs]` for points and
 * `X0,Y0,X1,Y1[,ID][@FRAME|@SECONDSs]` for boxes. The id defaults to 1; the time to frame 0.
 */
export const PROMPT_FLAG_SYNTAX = {
  point: "X,Y[,ID][@FRAME|@SECONDSs]",
  box: "X0,Y0,X1,Y1[,ID][@FRAME|@SECONDSs]",
} as const;

/**
 * Parses a `--point` (or, with `positive` false, `--negative-point`) value such as `120,80`,
 * `120,80,2`, `120,80,2@30` (frame 30) or `120,80,2@1.5s` (at 1.5 seconds).
 *
 * @example
 * ```ts
 * parsePointFlag("120,80,2@30", true, "--point");
 * // { objectId: 2, at: { frame: 30 }, points: [{ x: 120, y: 80, positive: true }], ... }
 * ```
 */
export function parsePointFlag(value: string, positive: boolean, flag: string): ObjectPrompt {
  const origin = `${flag} ${value}`;
  const { numbers, at } = splitFlagValue(value, origin, PROMPT_FLAG_SYNTAX.point);
  if (numbers.length !== 2 && numbers.length !== 3) {
    throw new PromptError(`${origin}: expected ${PROMPT_FLAG_SYNTAX.point}`);
  }
  const objectId = numbers.length === 3 ? objectIdOf(numbers[2], origin) : 1;
  return { objectId, at, points: [{ x: numbers[0], y: numbers[1], positive }], origin };
}

/**
 * Parses a `--box` value such as `100,60,140,100`, `100,60,140,100,2` or `100,60,140,100,2@15`.
 *
 * @example
 * ```ts
 * parseBoxFlag("100,60,140,100,3", "--box").box; // [100, 60, 140, 100]
 * ```
 */
export function parseBoxFlag(value: string, flag: string): ObjectPrompt {
  const origin = `${flag} ${value}`;
  const { numbers, at } = splitFlagValue(value, origin, PROMPT_FLAG_SYNTAX.box);
  if (numbers.length !== 4 && numbers.length !== 5) {
    throw new PromptError(`${origin}: expected ${PROMPT_FLAG_SYNTAX.box}`);
  }
  const box: BoxXyxy = [numbers[0], numbers[1], numbers[2], numbers[3]];
  checkBoxOrder(box, origin);
  const objectId = numbers.length === 5 ? objectIdOf(numbers[4], origin) : 1;
  return { objectId, at, points: [], box, origin };
}

/**
 * Checks every prompt against the frame size (points inside `[0, width) x [0, height)`, boxes
 * within `[0, width] x [0, height]`) and the video length when known, then merges prompts of the
 * same object on the same frame (their points are joined; two boxes are an error) and sorts the
 * result by frame, then object id.
 *
 * @example
 * ```ts
 * const prompts = resolvePrompts([parsePointFlag("120,80", true, "--point")], {
 *   width: 640, height: 360, fps: 25,
 * });
 * ```
 */
export function resolvePrompts(
  prompts: readonly ObjectPrompt[],
  bounds: PromptFrameBounds,
): ObjectPrompt[] {
  for (const prompt of prompts) checkInFrame(prompt, bounds);
  const merged = new Map<string, ObjectPrompt>();
  for (const prompt of prompts) {
    const frame = promptFrameIndex(prompt, bounds.fps);
    const key = `${prompt.objectId}@${frame}`;
    const earlier = merged.get(key);
    if (!earlier) {
      merged.set(key, { ...prompt, at: { frame } });
      continue;
    }
    if (earlier.box && prompt.box) {
      throw new PromptError(
        `${prompt.origin}: object ${prompt.objectId} already has a box on frame ${frame} (from ${earlier.origin}); give each object its own id`,
      );
    }
    merged.set(key, {
      ...earlier,
      label: earlier.label ?? prompt.label,
      points: [...earlier.points, ...prompt.points],
      box: earlier.box ?? prompt.box,
    });
  }
  return [...merged.values()].sort((a, b) =>
    promptFrameIndex(a, bounds.fps) - promptFrameIndex(b, bounds.fps) || a.objectId - b.objectId
  );
}

/** The frame a prompt applies to: its frame index, or its time rounded to the nearest frame. */
export function promptFrameIndex(prompt: ObjectPrompt, fps: number): number {
  return "frame" in prompt.at ? prompt.at.frame : Math.round(prompt.at.timeSeconds * fps);
}

function checkInFrame(prompt: ObjectPrompt, bounds: PromptFrameBounds): void {
  const { width, height } = bounds;
  const frameSize = `${width}x${height} frame`;
  for (const point of prompt.points) {
    if (!(point.x >= 0 && point.x < width && point.y >= 0 && point.y < height)) {
      throw new PromptError(
        `${prompt.origin}: ${
          point.positive ? "point" : "negative point"
        } (${point.x}, ${point.y}) is outside the ${frameSize}`,
      );
    }
  }
  if (prompt.box) {
    const [x0, y0, x1, y1] = prompt.box;
    if (!(x0 >= 0 && y0 >= 0 && x1 <= width && y1 <= height)) {
      throw new PromptError(
        `${prompt.origin}: box [${prompt.box.join(", ")}] is outside the ${frameSize}`,
      );
    }
  }
  const frame = promptFrameIndex(prompt, bounds.fps);
  if (bounds.frameCount !== undefined && frame >= bounds.frameCount) {
    throw new PromptError(
      `${prompt.origin}: frame ${frame} is past the end of the video (${bounds.frameCount} frames)`,
    );
  }
  if (
    "timeSeconds" in prompt.at && bounds.durationSeconds !== undefined &&
    prompt.at.timeSeconds > bounds.durationSeconds
  ) {
    throw new PromptError(
      `${prompt.origin}: time ${prompt.at.timeSeconds}s is past the end of the video (${bounds.durationSeconds}s)`,
    );
  }
}

function splitFlagValue(
  value: string,
  origin: string,
  syntax: string,
): { numbers: number[]; at: PromptTime } {
  const [coordinates, when, ...rest] = value.split("@");
  if (rest.length > 0) throw new PromptError(`${origin}: expected ${syntax}`);
  const numbers = coordinates.split(",").map((part) => Number(part.trim()));
  if (coordinates.trim() === "" || numbers.some((number) => !Number.isFinite(number))) {
    throw new PromptError(`${origin}: expected numbers as ${syntax}`);
  }
  return { numbers, at: parseWhen(when, origin) };
}

function parseWhen(when: string | undefined, origin: string): PromptTime {
  if (when === undefined) return { frame: 0 };
  if (/^\d+$/.test(when)) return { frame: Number(when) };
  const seconds = /^(\d+(?:\.\d+)?)s$/.exec(when);
  if (seconds) return { timeSeconds: Number(seconds[1]) };
  throw new PromptError(
    `${origin}: "@${when}" is not a frame index (@30) or a time in seconds (@1.5s)`,
  );
}

function objectIdOf(value: number, origin: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_OBJECT_ID) {
    throw new PromptError(`${origin}: object id must be an integer from 1 to ${MAX_OBJECT_ID}`);
  }
  return value;
}

function checkBoxOrder(box: BoxXyxy, origin: string): void {
  const [x0, y0, x1, y1] = box;
  if (!(x0 < x1 && y0 < y1)) {
    throw new PromptError(`${origin}: box needs x0 < x1 and y0 < y1, got [${box.join(", ")}]`);
  }
}

function describeJsonPath(path: readonly PropertyKey[], json: unknown): string {
  if (path.length === 0) return "top level";
  if (path[0] !== "objects" || typeof path[1] !== "number") return formatPath(path);
  const objectIndex = path[1];
  // deno-lint-ignore no-explicit-any
  const id = (json as any)?.objects?.[objectIndex]?.id;
  const objectName = typeof id === "number"
    ? `object ${id} (objects[${objectIndex}])`
    : `objects[${objectIndex}]`;
  const rest = path.slice(2);
  return rest.length > 0 ? `${objectName} ${formatPath(rest)}` : objectName;
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  }
  return text;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown field${issue.keys.length > 1 ? "s" : ""} ${
      issue.keys.map((key) => `"${key}"`).join(", ")
    }`;
  }
  return issue.message;
}
