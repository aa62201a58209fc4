import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const HELPER = fileURLToPath(new URL("./helpers/slow_consumer_rss.ts", import.meta.url));
const PEAK_RSS_LIMIT_MB = 400;

Deno.test(
  "a 10-minute 1080p source read slowly for 300 frames keeps peak RSS under 400 MB and leaves no ffmpeg",
  async () => {
    // In a subprocess, so the RSS is the pipeline's alone and not this test runner's.
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", HELPER],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const report = JSON.parse(new TextDecoder().decode(output.stdout));
    console.log(
      `peak RSS ${report.peakRssMb} MB over ${report.frames} frames of 1920x1080 (${report.framesRead} read)`,
    );
    assert.equal(report.frames, 300);
    assert.ok(report.framesRead <= 300 + 4, `read ${report.framesRead} frames for 300 consumed`);
    assert.ok(report.peakRssMb < PEAK_RSS_LIMIT_MB, `peak RSS ${report.peakRssMb} MB`);
    assert.equal(report.ffmpegLeft, 0);
  },
);
