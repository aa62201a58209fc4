/**
 * Pass-through cost: the real `segment` command with no prompts (decode -> empty masks -> overlay
 * -> encode, audio copied) against plain `ffmpeg -i clip -c:v libx264 -preset P out.mp4` on the
 * same clip, in one run. Rounds are interleaved (the order rotates each round) so that load from
 * elsewhere on the machine falls on both alike; the figures are medians over the rounds, and the
 * ratio is the median of each round's own ratio (target: at most 1.3x).
 *
 * Per command: wall time, and the user and system CPU time of the command with all its children
 * (the decoding and encoding ffmpeg, ffprobe), from this process's `cutime`/`cstime` in
 * /proc/self/stat around the run (Linux, 10 ms ticks).
 *
 * Not a `Deno.bench` file (it prints its own table): run it with
 * `deno run -A tests/bench/passthrough_bench.ts [--rounds 7] [--preset veryfast] [--floor]
 * [--against ../other-checkout]` on a machine as quiet as can be had. `--against` times another
 * checkout's `segment` in the same rounds (before and after a change); `--floor` adds ffmpeg
 * decoding to raw yuv420p piped into ffmpeg encoding it, with nothing between.
 * Skipped (exit 0) without ../shared.
 * @module
 */
import { parseArgs } from "node:util";
import { CLIPS_DIR, sharedAvailable } from "../helpers/shared.ts";
import { SEGMENT_CLI } from "../helpers/video.ts";

const CLIP = `${CLIPS_DIR}/02_cups.mp4`;

/** One timed run of a command and its children. */
export interface Timing {
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

interface Variant {
  readonly name: string;
  readonly command: string;
  readonly args: (output: string) => string[];
}

/** User and system CPU time of this process's reaped children so far, in clock ticks. */
function childTicks(): { user: number; system: number } {
  // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[13]), system: Number(fields[14]) };
}

/** USER_HZ: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

/** Runs `command` to its end and times it with its children; throws when it fails. */
export async function timeCommand(command: string, args: string[]): Promise<Timing> {
  const before = childTicks();
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const wallSeconds = (performance.now() - started) / 1000;
  const after = childTicks();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return {
    wallSeconds,
    userSeconds: (after.user - before.user) / TICKS_PER_SECOND,
    systemSeconds: (after.system - before.system) / TICKS_PER_SECOND,
  };
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function variants(preset: string, floor: boolean, against?: string): Variant[] {
  const quiet = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"];
  const segment = (cli: string) => (output: string) => [
    "run",
    "-A",
    cli,
    "--input",
    CLIP,
    "--output",
    output,
    "--preset",
    preset,
    "--quiet",
  ];
  return [
    {
      name: `plain ffmpeg -i 02_cups.mp4 -c:v libx264 -preset ${preset}`,
      command: "ffmpeg",
      args: (output) => [...quiet, "-i", CLIP, "-c:v", "libx264", "-preset", preset, output],
    },
    {
      name: `segment --preset ${preset} (pass-through, this checkout)`,
      command: Deno.execPath(),
      args: segment(SEGMENT_CLI),
    },
    ...(against
      ? [{
        name: `segment --preset ${preset} (pass-through, ${against})`,
        command: Deno.execPath(),
        args: segment(`${against}/src/cli/segment.ts`),
      }]
      : []),
    ...(floor
      ? [{
        name: "yuv420p floor: ffmpeg -f rawvideo - piped into ffmpeg -f rawvideo -i -",
        command: "sh",
        args: (output: string) => [
          "-c",
          `ffmpeg -v error -nostdin -i '${CLIP}' -f rawvideo -pix_fmt yuv420p - | ` +
          `ffmpeg -v error -y -f rawvideo -pix_fmt yuv420p -video_size 1280x720 ` +
          `-framerate 30000/1001 -i - -c:v libx264 -preset ${preset} '${output}'`,
        ],
      }]
      : []),
  ];
}

async function main(): Promise<void> {
  if (!sharedAvailable) return;
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "7" },
      preset: { type: "string", default: "veryfast" },
      floor: { type: "boolean", default: false },
      against: { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  const all = variants(values.preset, values.floor, values.against);
  const dir = await Deno.makeTempDir({ prefix: "passthrough_bench_" });
  const timings: Timing[][] = all.map(() => []);
  try {
    // One warm-up of each (disk cache, Deno's module cache), not counted.
    for (const variant of all) await timeCommand(variant.command, variant.args(`${dir}/w.mp4`));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < all.length; k++) {
        const i = (round + k) % all.length;
        const timing = await timeCommand(all[i].command, all[i].args(`${dir}/${i}.mp4`));
        timings[i].push(timing);
      }
      const line = all.map((_, i) => timings[i][round].wallSeconds.toFixed(2)).join(" / ");
      console.error(`round ${round + 1}/${rounds}: ${line} s`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const seconds = (value: number) => `${value.toFixed(2)} s`;
  console.log(
    `\n${rounds} interleaved rounds, ${CLIP}, medians; ratio: median of each round's wall-time ` +
      `ratio to plain ffmpeg\n`,
  );
  console.log(
    "| command | wall | user | system | ratio (wall) | ratio (CPU) | per-round wall ratios |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  const cpu = (run: Timing) => run.userSeconds + run.systemSeconds;
  all.forEach((variant, i) => {
    const runs = timings[i];
    const ratios = runs.map((run, round) => run.wallSeconds / timings[0][round].wallSeconds);
    const cpuRatios = runs.map((run, round) => cpu(run) / cpu(timings[0][round]));
    console.log(
      `| ${variant.name} | ${seconds(median(runs.map((run) => run.wallSeconds)))} | ${
        seconds(median(runs.map((run) => run.userSeconds)))
      } | ${seconds(median(runs.map((run) => run.systemSeconds)))} | ${
        i === 0 ? "1" : `${median(ratios).toFixed(2)}x`
      } | ${i === 0 ? "1" : `${median(cpuRatios).toFixed(2)}x`} | ${
        i === 0 ? "" : ratios.map((ratio) => ratio.toFixed(2)).join(", ")
      } |`,
    );
  });
}

if (import.meta.main) await main();
