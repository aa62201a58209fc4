import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BinaryNotFoundError, ensureExecutable, resolveBinary } from "../src/video/binaries.ts";
import { availableEncoders, chooseVideoEncoder } from "../src/video/encoders.ts";
import { countDecodableFrames, makeClip } from "./helpers/video.ts";

const HELPER = fileURLToPath(new URL("./helpers/npm_fallback_run.ts", import.meta.url));

function envOf(values: Record<string, string>) {
  return { get: (key: string) => values[key] };
}

Deno.test("FFMPEG_PATH wins over PATH", async () => {
  const resolved = await resolveBinary(
    "ffmpeg",
    envOf({ FFMPEG_PATH: "/usr/bin/ffmpeg", PATH: "/nonexistent" }),
  );
  assert.deepEqual(resolved, { tool: "ffmpeg", path: "/usr/bin/ffmpeg", origin: "env" });
});

Deno.test("FFPROBE_PATH naming a missing file is a one-line error", async () => {
  await assert.rejects(
    () => resolveBinary("ffprobe", envOf({ FFPROBE_PATH: "/nonexistent/ffprobe" })),
    (error: Error) =>
      error instanceof BinaryNotFoundError && error.message.includes("FFPROBE_PATH") &&
      !error.message.includes("\n"),
  );
});

Deno.test("PATH is searched when no variable is set", async () => {
  const resolved = await resolveBinary("ffprobe", envOf({ PATH: "/nonexistent:/usr/bin" }));
  assert.equal(resolved.origin, "path");
  assert.equal(resolved.path, "/usr/bin/ffprobe");
});

Deno.test("without ffmpeg on PATH the npm-shipped binaries are used", async () => {
  const ffmpeg = await resolveBinary("ffmpeg", envOf({ PATH: "/nonexistent" }));
  const ffprobe = await resolveBinary("ffprobe", envOf({ PATH: "/nonexistent" }));
  assert.equal(ffmpeg.origin, "npm");
  assert.equal(ffprobe.origin, "npm");
  assert.match(ffmpeg.path, /@ffmpeg-installer/);
  assert.match(ffprobe.path, /@ffprobe-installer/);
  // The ffprobe package ships without its executable bit; resolution must have added it.
  assert.notEqual((await Deno.stat(ffprobe.path)).mode! & 0o100, 0);
});

Deno.test("ensureExecutable adds the owner's executable bit to our own file", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.copyFile("/usr/bin/ffprobe", path);
    await Deno.chmod(path, 0o644);
    await ensureExecutable(path);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o744);
    const output = await new Deno.Command(path, { args: ["-version"], stdout: "piped" }).output();
    assert.ok(output.success);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("probe, decode and encode work with only the npm-shipped ffmpeg and ffprobe", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await makeClip(`${dir}/in.mp4`, { width: 160, height: 96, frames: 10 });
    const env: Record<string, string> = { PATH: "/nonexistent" };
    for (const key of ["HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
      const value = Deno.env.get(key);
      if (value) env[key] = value;
    }
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", HELPER, `${dir}/in.mp4`, `${dir}/out.mp4`],
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const report = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(report.ffmpeg.origin, "npm");
    assert.equal(report.ffprobe.origin, "npm");
    assert.deepEqual([report.width, report.height, report.decoded], [160, 96, 5]);
    assert.equal(report.firstFrameBytes, 160 * 96 * 3);
    assert.equal(await countDecodableFrames(`${dir}/out.mp4`), 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encoder detection finds libx264 and falls back along the preference list", async () => {
  const encoders = await availableEncoders("/usr/bin/ffmpeg");
  assert.ok(encoders.has("libx264"));
  assert.ok(encoders.has("ffv1"));
  assert.equal(await chooseVideoEncoder("/usr/bin/ffmpeg"), "libx264");
  assert.equal(await chooseVideoEncoder("/usr/bin/ffmpeg", ["no_such_encoder", "mpeg4"]), "mpeg4");
  await assert.rejects(() => chooseVideoEncoder("/usr/bin/ffmpeg", ["no_such_encoder"]));
});
