/**
 * `deno task segment --everything` (one frame) and `--everything-every K` (video): flag errors,
 * the single-frame pipeline with the test segmenter, and both modes end to end with the real
 * TinySAM graphs built from the random-weight fixture checkpoint (skipped without ../shared).
 */
import assert from "node:assert/strict";
import { FrameOutOfRangeError, segmentEverythingInImage } from "../pipelines/everything_image.ts";
import { decodePng } from "../src/export/png.ts";
import { encodeFramePng } from "../src/export/frame_png.ts";
import { readMasksJsonl } from "../src/export/masks_jsonl.ts";
import type { FrameMasks } from "../src/segment/mask.ts";
import { parseInputSource } from "../src/video/input_source.ts";
import { probeVideo } from "../src/video/probe.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import { sampleFrames, sampleGroundTruth, SAMPLES_DIR } from "./helpers/sample_frames.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { countDecodableFrames, exists, runSegmentCli } from "./helpers/video.ts";
import { WholeFramePoints } from "./helpers/whole_frame_points.ts";

const VIDEO = `${SAMPLES_DIR}/occlusion/video.mp4`;

Deno.test("everything flags that do not go together are usage errors with one line and no output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "everything_cli_" });
  const png = `${dir}/out.png`;
  const cases: [string[], RegExp][] = [
    [["--everything", "-i", VIDEO, "-o", `${dir}/out.mp4`], /--output of --everything is a PNG/],
    [["--everything", "-i", VIDEO, "-o", png, "--point", "10,10"], /--everything takes no prompts/],
    [["--everything", "-i", VIDEO, "-o", png, "--everything-every", "5"], /give one/],
    [["--everything", "-i", VIDEO, "-o", png, "--masks-dir", dir], /--masks-dir applies to videos/],
    [["--everything", "-i", VIDEO, "-o", png, "--max-objects", "3"], /--max-objects applies to/],
    [["--everything", "-i", VIDEO, "-o", png, "--frame", "-1"], /--frame/],
    [["--everything", "-i", VIDEO, "-o", png, "--frame", "x"], /--frame must be a frame index/],
    [["-i", VIDEO, "-o", `${dir}/out.mp4`, "--frame", "3"], /--frame applies to --everything/],
    [["-i", VIDEO, "-o", `${dir}/out.mp4`, "--everything-every", "0"], /positive integer/],
    [["-i", VIDEO, "-o", `${dir}/out.mp4`, "--max-objects", "3"], /needs --everything/],
    [
      ["-i", VIDEO, "-o", `${dir}/out.mp4`, "--everything-every", "5", "--everything-mode", "x"],
      /--everything-mode must be one of hierarchical, dense/,
    ],
    [
      ["-i", VIDEO, "-o", `${dir}/out.mp4`, "--everything-every", "5", "--points-per-side", "0"],
      /--points-per-side must be a positive integer/,
    ],
    // Past the end of the video: found after decoding, before any model is loaded.
    [
      ["--everything", "-i", VIDEO, "-o", png, "--frame", "500"],
      /frame 500 is past the end .* 72 frames/,
    ],
  ];
  try {
    for (const [args, message] of cases) {
      const result = await runSegmentCli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stderrLines.length, 1, result.stderr);
      assert.match(result.stderrLines[0], message);
      assert.deepEqual([...Deno.readDirSync(dir)], [], `${args.join(" ")} left files behind`);
    }
    const missing = await runSegmentCli(["--everything", "-i", `${dir}/none.png`, "-o", png]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderrLines.length, 1, missing.stderr);
    assert.ok(!exists(png));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("everything on one frame writes a masks JSON line matching the objects and an overlay PNG", async () => {
  const dir = await Deno.makeTempDir({ prefix: "everything_image_" });
  try {
    // An image file (a frame of a sample saved as PNG) and the same frame picked from the video.
    const [frame] = await sampleFrames("crossing", [50]);
    const image = `${dir}/frame50.png`;
    await Deno.writeFile(image, encodeFramePng(frame));
    const truth = await sampleGroundTruth("crossing", 50);
    for (
      const [input, frameIndex] of [[image, 0], [`${SAMPLES_DIR}/crossing/video.mp4`, 50]] as const
    ) {
      const source = parseInputSource(input);
      let disposed = false;
      const report = await segmentEverythingInImage({
        source,
        info: await probeVideo(source),
        frameIndex,
        openSegmenter: () => {
          const segmenter = new WholeFramePoints(new RegionGrowingSegmenter());
          const dispose = segmenter.dispose.bind(segmenter);
          segmenter.dispose = () => {
            disposed = true;
            return dispose();
          };
          return Promise.resolve(segmenter);
        },
        strategy: "hierarchical",
        overlayPng: `${dir}/overlay.png`,
        masksJsonl: `${dir}/masks.jsonl`,
      });
      assert.ok(disposed, "the segmenter is disposed");
      const lines: FrameMasks[] = [];
      for await (const masks of readMasksJsonl(`${dir}/masks.jsonl`)) lines.push(masks);
      assert.equal(lines.length, 1);
      const masks = lines[0];
      assert.equal(masks.frameIndex, frameIndex);
      assert.equal(masks.objects.length, report.stats.kept);
      // Every visible object is among the masks.
      for (const [id, gt] of truth) {
        const best = Math.max(...masks.objects.map((o) => {
          let inter = 0, union = 0;
          for (let i = 0; i < gt.length; i++) {
            if (gt[i] && o.mask.data[i]) inter++;
            if (gt[i] || o.mask.data[i]) union++;
          }
          return inter / union;
        }));
        assert.ok(best >= 0.9, `object ${id}: best IoU ${best}`);
      }
      // Ids 1..n, listed largest first; scores are predicted IoUs in [0, 1].
      assert.deepEqual(
        masks.objects.map((o) => o.id).sort((a, b) => a - b),
        masks.objects.map((_, i) => i + 1),
      );
      for (const o of masks.objects) assert.ok(o.score > 0.88 && o.score <= 1);
      const overlay = decodePng(await Deno.readFile(`${dir}/overlay.png`));
      assert.equal(overlay.width, 480);
      assert.equal(overlay.height, 270);
      assert.equal(overlay.kind, "rgb8");
      assert.notDeepEqual(overlay.data, frame.data, "masks are drawn");
    }
    // A frame past the end: an error, and nothing written.
    await Deno.remove(`${dir}/overlay.png`);
    const source = parseInputSource(image);
    await assert.rejects(
      segmentEverythingInImage({
        source,
        info: await probeVideo(source),
        frameIndex: 1,
        openSegmenter: () => Promise.reject(new Error("the model must not be opened")),
        strategy: "dense",
        overlayPng: `${dir}/overlay.png`,
      }),
      FrameOutOfRangeError,
    );
    assert.ok(!exists(`${dir}/overlay.png`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "segment --everything and --everything-every run end to end on the real TinySAM graphs",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "everything_e2e_" });
    const env = { TINYSAM_CACHE_DIR: `${dir}/cache` };
    const checkpoint = `${FIXTURE_DIR}/tinysam_random.pth`;
    try {
      const image = await runSegmentCli([
        "--everything",
        "-i",
        VIDEO,
        "--frame",
        "3",
        "-o",
        `${dir}/everything.png`,
        "--masks-json",
        `${dir}/everything.jsonl`,
        "--checkpoint",
        checkpoint,
        "--points-per-side",
        "4",
        "--threads",
        "1",
      ], { env });
      assert.equal(image.code, 0, image.stderr);
      assert.match(
        image.stderr,
        /hierarchical everything on frame 3: \d+ masks from \d+ prompts \(\d+ dense points skipped, \d+ decoder calls\)/,
      );
      const png = decodePng(await Deno.readFile(`${dir}/everything.png`));
      assert.deepEqual([png.width, png.height], [480, 270]);
      const lines = (await Deno.readTextFile(`${dir}/everything.jsonl`)).trim().split("\n");
      assert.equal(lines.length, 1);
      assert.equal(JSON.parse(lines[0]).frame, 3);

      const video = await runSegmentCli([
        "-i",
        VIDEO,
        "-o",
        `${dir}/discovered.mp4`,
        "--masks-json",
        `${dir}/discovered.jsonl`,
        "--everything-every",
        "2",
        "--points-per-side",
        "4",
        "--max-frames",
        "3",
        "--checkpoint",
        checkpoint,
        "--threads",
        "1",
        "-q",
      ], { env });
      assert.equal(video.code, 0, video.stderr);
      assert.equal(await countDecodableFrames(`${dir}/discovered.mp4`), 3);
      let frames = 0;
      for await (const _ of readMasksJsonl(`${dir}/discovered.jsonl`)) frames++;
      assert.equal(frames, 3);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
