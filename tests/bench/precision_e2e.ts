/**
 * Whole-process speed of int8 against fp32: `segment` tracking one clicked object on the first
 * frames of a real clip, each run a fresh process (start-up, model load, decode, encode, tracking,
 * overlay encoding), the two precisions alternating. Both models are built once before timing.
 *
 * `deno run -A tests/bench/precision_e2e.ts [--frames 20] [--rounds 3] [--clip FILE]`
 * @module
 */
import { parseArgs } from "node:util";
import { CLIPS_DIR, FIXTURE_DIR, sharedAvailable } from "../helpers/shared.ts";

const SEGMENT = new URL("../../src/cli/segment.ts", import.meta.url).pathname;
const PRECISIONS = ["fp32", "int8"] as const;

async function segment(args: string[]): Promise<number> {
  const began = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SEGMENT, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`segment ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  return performance.now() - began;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

if (import.meta.main) {
  if (!sharedAvailable) {
    console.error("skipped: ../shared (fixture checkpoint and clips) is not beside this checkout");
    Deno.exit(0);
  }
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "20" },
      rounds: { type: "string", default: "3" },
      clip: { type: "string", default: `${CLIPS_DIR}/bedroom.mp4` },
    },
  });
  const out = await Deno.makeTempDir({ prefix: "tinysam-e2e-" });
  try {
    const args = (precision: string) => [
      "--input",
      values.clip!,
      "--output",
      `${out}/${precision}.mp4`,
      "--checkpoint",
      `${FIXTURE_DIR}/tinysam_random.pth`,
      "--precision",
      precision,
      "--threads",
      "2",
      "--point",
      "480,270",
      "--max-frames",
      values.frames!,
    ];
    for (const precision of PRECISIONS) {
      console.error(`building / warming up ${precision}`);
      await segment(args(precision));
    }
    const times: Record<string, number[]> = { fp32: [], int8: [] };
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const precision of PRECISIONS) {
        const ms = await segment(args(precision));
        times[precision].push(ms);
        console.error(`round ${round + 1}: ${precision} ${(ms / 1000).toFixed(2)} s`);
      }
    }
    const fp32 = median(times.fp32), int8 = median(times.int8);
    console.log(
      `\n1 object, ${values.frames} frames of ${values.clip}, whole process, median of ${values.rounds}\n`,
    );
    console.log("| precision | wall | speed-up |\n| --- | --- | --- |");
    console.log(`| fp32 | ${(fp32 / 1000).toFixed(2)} s | 1.00x |`);
    console.log(`| int8 | ${(int8 / 1000).toFixed(2)} s | ${(fp32 / int8).toFixed(2)}x |`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
