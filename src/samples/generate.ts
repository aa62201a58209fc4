/**
 * Generates the synthetic samples with ground truth: `deno task samples` runs
 * `deno run --allow-all src/samples/generate.ts samples/`. Output is deterministic: the label
 * maps, prompts and README are byte-identical on every run, and the MP4s are for a given ffmpeg
 * build (recorded in `manifest.json`).
 * @module
 */
import { encodeLabelMapPng, maskPngName } from "../export/label_map.ts";
import { samplesReadme } from "./describe.ts";
import { ffmpegVersion, openSampleVideo, type SampleVideoWriter } from "./sample_video.ts";
import { sceneTruthJson } from "../eval/scene_truth.ts";
import { proceduralScene } from "./procedural.ts";
import { renderSceneFrame, renderSceneLabels, type Scene, sceneTextures } from "./scene.ts";
import { SAMPLE_SCENES } from "./scenes.ts";
import { type ObjectTimeline, SampleTimeline } from "./timeline.ts";
import { TruthRecorder } from "./truth_recorder.ts";

/** Options of `generateSamples` / `generateSample`. */
export interface GenerateOptions {
  /** Also encode `video.mp4` (default true); tests of the ground truth can skip it. */
  readonly video?: boolean;
  /** Scenes to generate (default: all of `SAMPLE_SCENES`). */
  readonly scenes?: readonly Scene[];
}

/** What was generated for one scene. */
export interface GeneratedSample {
  readonly scene: Scene;
  readonly directory: string;
  readonly timelines: readonly ObjectTimeline[];
}

/**
 * Renders one scene into `<outDir>/<scene.name>/`: `gt/` label maps (the directory is emptied
 * first), `prompts.json`, `truth.json` (see `eval/scene_truth.ts`) and, unless disabled,
 * `video.mp4`. Throws if the scene fails to show one
 * of its events (see `SampleTimeline`), leaving no video behind.
 *
 * @example
 * ```ts
 * const sample = await generateSample(SAMPLE_SCENES[0], "samples");
 * ```
 */
export async function generateSample(
  scene: Scene,
  outDir: string,
  options: GenerateOptions = {},
): Promise<GeneratedSample> {
  const directory = `${outDir}/${scene.name}`;
  const gtDir = `${directory}/gt`;
  await Deno.remove(gtDir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  await Deno.mkdir(gtDir, { recursive: true });
  const video: SampleVideoWriter | undefined = (options.video ?? true)
    ? await openSampleVideo(`${directory}/video.mp4`, scene.width, scene.height, scene.fps)
    : undefined;
  try {
    const textures = sceneTextures(scene);
    const timeline = new SampleTimeline(scene);
    const truth = new TruthRecorder(scene);
    for (let t = 0; t < scene.frames; t++) {
      const frame = renderSceneFrame(scene, textures, t);
      const png = encodeLabelMapPng({
        width: scene.width,
        height: scene.height,
        labels: frame.labels,
      });
      await Promise.all([
        video?.write(frame.rgb),
        Deno.writeFile(`${gtDir}/${maskPngName(t)}`, png),
      ]);
      timeline.add(t, frame.labels, frame.inFrameArea);
      truth.add(t, frame.labels, frame.inFrameArea);
    }
    const timelines = timeline.finish();
    await Deno.writeTextFile(`${directory}/prompts.json`, promptsJson(timelines));
    await Deno.writeTextFile(`${directory}/truth.json`, sceneTruthJson(truth.finish()));
    await video?.finish();
    return { scene, directory, timelines };
  } catch (error) {
    await video?.abort();
    throw error;
  }
}

/** Scenes drawn for one seed before giving up (each attempt draws another scene). */
const SEED_ATTEMPTS = 8;

/**
 * The scene of `seed` (see `procedural.ts`) whose story holds: every object shows itself enough
 * to be prompted. Checked on label maps only (cheap); the first scene drawn that passes is kept.
 *
 * @example
 * ```ts
 * const sample = await generateSample(seededScene(7), "suite");
 * ```
 */
export function seededScene(seed: number): Scene {
  let failure = "";
  for (let attempt = 0; attempt < SEED_ATTEMPTS; attempt++) {
    const scene = proceduralScene(seed, attempt);
    const textures = sceneTextures(scene);
    const timeline = new SampleTimeline(scene);
    for (let t = 0; t < scene.frames; t++) {
      const { labels, inFrameArea } = renderSceneLabels(scene, textures, t);
      timeline.add(t, labels, inFrameArea);
    }
    try {
      timeline.finish();
      return scene;
    } catch (error) {
      failure = (error as Error).message;
    }
  }
  throw new Error(
    `seed ${seed}: no scene passed its checks in ${SEED_ATTEMPTS} draws (${failure})`,
  );
}

/**
 * The prompts file (notes/prompts_schema.md) of a sample: per object, its first usable frame
 * with one positive point and its box.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("prompts.json", promptsJson(sample.timelines));
 * ```
 */
export function promptsJson(timelines: readonly ObjectTimeline[]): string {
  const objects = [...timelines].sort((a, b) => a.id - b.id).map((t) => ({
    id: t.id,
    label: t.label,
    prompts: [{ frame: t.prompt.frame, points: t.prompt.points, box: t.prompt.box }],
  }));
  // One object per line keeps the file short and readable; it is still plain JSON.
  return `{\n  "objects": [\n    ${
    objects.map((o) => JSON.stringify(o)).join(",\n    ")
  }\n  ]\n}\n`;
}

/**
 * Generates every sample into `outDir`, then `README.md` and (with video) `manifest.json`.
 *
 * @example
 * ```ts
 * await generateSamples("samples");
 * ```
 */
export async function generateSamples(
  outDir: string,
  options: GenerateOptions = {},
): Promise<GeneratedSample[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const samples: GeneratedSample[] = [];
  for (const scene of options.scenes ?? SAMPLE_SCENES) {
    samples.push(await generateSample(scene, outDir, options));
  }
  await Deno.writeTextFile(`${outDir}/README.md`, samplesReadme(samples));
  if (options.video ?? true) {
    const videos: Record<string, string> = {};
    for (const sample of samples) {
      videos[`${sample.scene.name}/video.mp4`] = await sha256(`${sample.directory}/video.mp4`);
    }
    const manifest = { ffmpeg: await ffmpegVersion(), videos };
    await Deno.writeTextFile(`${outDir}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
  }
  return samples;
}

/**
 * Hex SHA-256 of a file.
 *
 * @example
 * ```ts
 * await sha256("samples/occlusion/video.mp4");
 * ```
 */
export async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const outDir = (Deno.args[0] ?? "samples").replace(/\/+$/, "") || ".";
  try {
    const samples = await generateSamples(outDir);
    for (const sample of samples) {
      console.log(
        `${sample.directory}: ${sample.scene.frames} frames, ${sample.timelines.length} objects`,
      );
    }
  } catch (error) {
    console.error(`samples: ${(error as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
