import assert from "node:assert/strict";
import { readMasksJsonl } from "../src/export/masks_jsonl.ts";
import { listMaskPngs } from "../src/export/masks_dir.ts";
import {
  childProcesses,
  countDecodableFrames,
  eventually,
  exists,
  ffmpeg,
  ffprobeStreams,
  makeClip,
  REPO_DIR,
  runSegmentCli,
  SEGMENT_CLI,
} from "./helpers/video.ts";

const dir = await Deno.makeTempDir({ prefix: "cli_segment_test_" });
const clip = `${dir}/clip.mp4`;
await makeClip(clip, { width: 160, height: 96, fps: 25, frames: 20, audio: true });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const PASS_THROUGH = /no prompts and no everything pass: passing the video through without a model/;

Deno.test("--help documents every flag and exits 0", async () => {
  const result = await runSegmentCli(["--help"]);
  assert.equal(result.code, 0);
  const help = new TextDecoder().decode(result.stdout);
  for (
    const flag of [
      "--input",
      "--output",
      "--point",
      "--negative-point",
      "--box",
      "--prompts",
      "--masks-dir",
      "--masks-json",
      "--max-frames",
      "--live",
      "--quiet",
      "--progress",
      "--output-format",
      "@FRAME",
      "Exit codes",
    ]
  ) {
    assert.ok(help.includes(flag), `--help does not mention ${flag}`);
  }
});

Deno.test("a pass-through run re-encodes every frame, copies audio and writes empty masks", async () => {
  const out = `${dir}/pass.mp4`;
  const result = await runSegmentCli([
    "--input",
    clip,
    "--output",
    out,
    "--masks-dir",
    `${dir}/masks`,
    "--masks-json",
    `${dir}/masks.jsonl`,
    "--progress",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderrLines[0], PASS_THROUGH);
  const records = result.stderrLines.slice(1).map((line) => JSON.parse(line));
  const end = records.find((record) => record.event === "end");
  assert.deepEqual([end.frames, end.totalFrames], [20, 20]);
  const stats = records.find((record) => record.event === "stats");
  assert.deepEqual([stats.framesRead, stats.framesOutput, stats.framesDropped], [20, 20, 0]);
  const probed = await ffprobeStreams(out);
  assert.deepEqual([probed.videoCodec, probed.audioCodec, probed.width, probed.height], [
    "h264",
    "aac",
    160,
    96,
  ]);
  assert.equal(probed.frameRate, "25/1");
  assert.equal(await countDecodableFrames(out), 20);
  assert.equal((await listMaskPngs(`${dir}/masks`)).length, 20);
  let lines = 0;
  for await (const masks of readMasksJsonl(`${dir}/masks.jsonl`)) {
    assert.equal(masks.frameIndex, lines++);
    assert.deepEqual(masks.objects, []);
  }
  assert.equal(lines, 20);
});

Deno.test("--max-frames stops after N frames", async () => {
  const out = `${dir}/max.mkv`;
  const result = await runSegmentCli(["--input", clip, "--output", out, "--max-frames", "7", "-q"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await countDecodableFrames(out), 7);
});

const badRuns: [string, () => Promise<string[]>, number, RegExp][] = [
  ["a missing file", () => Promise.resolve(["--input", `${dir}/missing.mp4`]), 1, /does not exist/],
  ["a directory", () => Promise.resolve(["--input", dir]), 1, /is a directory/],
  [
    "a zero-byte file",
    async () => {
      await Deno.writeFile(`${dir}/empty.mp4`, new Uint8Array());
      return ["--input", `${dir}/empty.mp4`];
    },
    1,
    /is empty/,
  ],
  [
    "a corrupt file",
    async () => {
      const bytes = await Deno.readFile(clip);
      // The header survives, the rest is noise.
      const corrupt = bytes.slice();
      for (let i = 64; i < corrupt.length; i++) corrupt[i] = (i * 7919) & 0xff;
      await Deno.writeFile(`${dir}/corrupt.mp4`, corrupt);
      return ["--input", `${dir}/corrupt.mp4`];
    },
    1,
    /not a readable video/,
  ],
  [
    "a text file",
    async () => {
      await Deno.writeTextFile(`${dir}/readme.txt`, "not a video\n".repeat(50));
      return ["--input", `${dir}/readme.txt`];
    },
    1,
    /not a (readable )?video/,
  ],
  [
    "a point outside the frame",
    () => Promise.resolve(["--input", clip, "--point", "160,10"]),
    2,
    /--point 160,10: point \(160, 10\) is outside the 160x96 frame/,
  ],
  [
    "a box in a prompts file outside the frame",
    async () => {
      await Deno.writeTextFile(
        `${dir}/outside.json`,
        JSON.stringify({ objects: [{ id: 4, prompts: [{ box: [10, 10, 170, 50] }] }] }),
      );
      return ["--input", clip, "--prompts", `${dir}/outside.json`];
    },
    1,
    /object 4 \(objects\[0\]\) prompts\[0\]: box \[10, 10, 170, 50\] is outside/,
  ],
  [
    "malformed prompt JSON",
    async () => {
      await Deno.writeTextFile(`${dir}/bad.json`, '{"objects": [{"id": 1, "prompts": [');
      return ["--input", clip, "--prompts", `${dir}/bad.json`];
    },
    1,
    /bad\.json: not valid JSON/,
  ],
  [
    "a bad flag value",
    () => Promise.resolve(["--input", clip, "--max-frames", "ten"]),
    2,
    /--max-frames must be a positive integer \(got "ten"\)/,
  ],
  [
    "an unknown flag",
    () => Promise.resolve(["--input", clip, "--frobnicate"]),
    2,
    /unknown option --frobnicate/,
  ],
];

for (const [what, makeArgs, expectedCode, message] of badRuns) {
  Deno.test(`${what} gives one line on stderr, exit ${expectedCode} and no output file`, async () => {
    const name = what.replaceAll(" ", "_");
    const out = `${dir}/${name}.mp4`;
    const masks = `${dir}/${name}_masks`;
    const json = `${dir}/${name}.jsonl`;
    const result = await runSegmentCli([
      ...await makeArgs(),
      "--output",
      out,
      "--masks-dir",
      masks,
      "--masks-json",
      json,
    ]);
    assert.equal(result.code, expectedCode, result.stderr);
    assert.equal(result.stderrLines.length, 1, result.stderr);
    assert.match(result.stderrLines[0], message);
    assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/, "stack trace printed");
    assert.equal(exists(out), false, "output file created");
    assert.equal(exists(masks), false, "masks directory created");
    assert.equal(exists(json), false, "masks JSON created");
  });
}

Deno.test("stdin in and stdout out work in one shell pipeline", async () => {
  const script = [
    "set -o pipefail",
    `ffmpeg -v error -nostdin -f lavfi -i testsrc2=size=160x96:rate=25:duration=1 -f nut -`,
    `"${Deno.execPath()}" run -A "${SEGMENT_CLI}" --input - --output - --quiet`,
    `ffmpeg -v error -i - -f framecrc -`,
  ];
  const output = await new Deno.Command("bash", {
    args: ["-c", `${script[0]}; ${script.slice(1).join(" | ")}`],
    cwd: REPO_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const frames = new TextDecoder().decode(output.stdout).split("\n").filter((line) =>
    /^0,/.test(line)
  );
  assert.equal(frames.length, 25);
  assert.ok(frames.every((line) => line.includes("160x96") || line.includes("23040")));
  assert.match(stderr, PASS_THROUGH);
});

/** Starts the CLI on a long synthetic source and resolves once `frames` frames are encoded. */
async function startLongRun(output: string, frames: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SEGMENT_CLI,
      "--input",
      "lavfi:testsrc2=size=160x96:rate=25:duration=600",
      "--output",
      output,
      "--progress",
      "json",
    ],
    cwd: REPO_DIR,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    // Its own process group, so the test can signal the group as a terminal's Ctrl-C does.
    detached: true,
  }).spawn();
  const lines: string[] = [];
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const rest = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const started = await eventually(
    () => lines.some((line) => line.startsWith("{") && JSON.parse(line).frames >= frames),
    20_000,
  );
  assert.ok(started, `never reached ${frames} frames: ${lines.join("\n")}`);
  return { child, lines, rest };
}

Deno.test("Ctrl-C (SIGINT to the process group) mid-run leaves a playable output, exit 130", async () => {
  const out = `${dir}/interrupted.mp4`;
  const { child, lines, rest } = await startLongRun(out, 30);
  // Like a terminal: every process of the foreground group gets SIGINT. The ffmpeg children run
  // in groups of their own, so only the command sees it and finalizes the encoder itself.
  Deno.kill(-child.pid, "SIGINT");
  const status = await child.status;
  await rest;
  assert.equal(status.code, 130, lines.join("\n"));
  assert.match(lines.at(-1)!, /interrupted: outputs finalized after \d+ frames/);
  const frames = await countDecodableFrames(out);
  assert.ok(frames >= 30, `${frames} frames in the output`);
  assert.equal((await ffprobeStreams(out)).videoCodec, "h264");
});

Deno.test("the decoding ffmpeg killed mid-run gives one error line, exit 1, playable output", async () => {
  const out = `${dir}/decoder_killed.mkv`;
  const { child, lines, rest } = await startLongRun(out, 30);
  const decoder = childProcesses(child.pid).find((process) =>
    process.command.includes("rawvideo") && process.command.includes("pipe:1")
  );
  assert.ok(decoder, "decoding ffmpeg not found");
  Deno.kill(decoder.pid, "SIGKILL");
  const status = await child.status;
  await rest;
  assert.equal(status.code, 1);
  const errors = lines.filter((line) => line.startsWith("segment: error"));
  assert.equal(errors.length, 1, lines.join("\n"));
  assert.match(errors[0], /decoding ffmpeg was killed by SIGKILL after \d+ frames/);
  assert.ok(await countDecodableFrames(out) >= 30);
});

Deno.test("--live on a fast source drops frames and reports the count", async () => {
  const out = `${dir}/live.mkv`;
  const source = `${dir}/fast.nut`;
  await ffmpeg([
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=640x360:rate=25:duration=8",
    "-c:v",
    "rawvideo",
    "-f",
    "nut",
    source,
  ]);
  const result = await runSegmentCli([
    "--input",
    source,
    "--live",
    "--output",
    out,
    "--progress",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const stats = JSON.parse(result.stderrLines.at(-1)!);
  assert.equal(stats.event, "stats", result.stderr);
  assert.equal(stats.framesRead, 200, result.stderr);
  assert.equal(stats.framesOutput + stats.framesDropped, 200, result.stderr);
  assert.ok(stats.framesOutput > 0 && stats.latencyP95Ms >= stats.latencyP50Ms, result.stderr);
  assert.equal(await countDecodableFrames(out), stats.framesOutput);
});
