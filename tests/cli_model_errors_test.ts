/**
 * A prompted run whose model cannot be made ready fails with one line naming the problem and
 * what to do, exit code 1, and leaves no output behind.
 */
import assert from "node:assert/strict";
import { REPO_DIR, runSegmentCli } from "./helpers/video.ts";

async function promptedRun(modelArgs: string[], env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "cli_model_errors_" });
  const cache = await Deno.makeTempDir({ prefix: "cli_model_cache_" });
  try {
    const result = await runSegmentCli([
      "--input",
      `${REPO_DIR}/samples/occlusion/video.mp4`,
      "--point",
      "150,153",
      ...modelArgs,
      "--output",
      `${dir}/out.mp4`,
      "--masks-json",
      `${dir}/masks.jsonl`,
    ], { env: { TINYSAM_CACHE_DIR: cache, NO_COLOR: "1", ...env } });
    const cached: string[] = [];
    for (const entry of Deno.readDirSync(cache)) {
      if (entry.isDirectory) {
        for (const file of Deno.readDirSync(`${cache}/${entry.name}`)) cached.push(file.name);
      }
    }
    return { result, leftOver: [...Deno.readDirSync(dir)].map((entry) => entry.name), cached };
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cache, { recursive: true });
  }
}

Deno.test("segment with a checkpoint file that does not exist: one line, exit 1, no output", async () => {
  const { result, leftOver } = await promptedRun(["--checkpoint", "/nonexistent/tinysam.pth"]);
  assert.equal(result.code, 1);
  assert.deepEqual(result.stderrLines, [
    "segment: error: checkpoint file not found: /nonexistent/tinysam.pth",
  ]);
  assert.deepEqual(leftOver, []);
});

Deno.test("segment with a file that is not a checkpoint: one line, exit 1, no output", async () => {
  const file = await Deno.makeTempFile({ suffix: ".pth" });
  try {
    await Deno.writeFile(file, new TextEncoder().encode("this is not a pickle\n".repeat(10)));
    const { result, leftOver } = await promptedRun(["--checkpoint", file]);
    assert.equal(result.code, 1);
    assert.equal(result.stderrLines.length, 1, result.stderr);
    assert.match(result.stderrLines[0], /not a PyTorch checkpoint/);
    assert.deepEqual(leftOver, []);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("segment offline: the error names the URL that failed and how to pass a local file", async () => {
  // Nothing listens on port 9 of the loopback interface: the download fails at once.
  const { result, leftOver, cached } = await promptedRun([], {
    TINYSAM_MODEL_MIRROR: "http://127.0.0.1:9",
  });
  assert.equal(result.code, 1);
  assert.equal(result.stderrLines.length, 1, result.stderr);
  assert.match(result.stderrLines[0], /http:\/\/127\.0\.0\.1:9\/tinysam_42\.3\.pth/);
  assert.match(result.stderrLines[0], /--checkpoint FILE/);
  assert.deepEqual(leftOver, []);
  assert.ok(
    cached.every((name) => !name.includes("checkpoint") && !name.endsWith(".partial")),
    `nothing downloaded is left in the cache: ${cached}`,
  );
});

Deno.test("segment with an unknown model name: one line listing the known ones", async () => {
  const { result, leftOver } = await promptedRun(["--model", "tinysam-99"]);
  assert.notEqual(result.code, 0);
  assert.equal(result.stderrLines.length, 1, result.stderr);
  assert.match(result.stderrLines[0], /tinysam-99/);
  assert.match(result.stderrLines[0], /tinysam-42\.3/);
  assert.deepEqual(leftOver, []);
});
