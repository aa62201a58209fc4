/**
 * The model cache with local checkpoints (no network): entry naming, the manifest, when
 * graphs are rebuilt and when not, bad checkpoints, imports under a registry name, leftovers
 * of killed runs, the lock, and the registry's data.
 */
import assert from "node:assert/strict";
import { DEFAULT_MODEL, downloadUrl, MODEL_REGISTRY, registryModel } from "../models/registry.ts";
import { BUILDER_VERSION } from "../src/model/build.ts";
import { withFileLock } from "../src/model/cache_lock.ts";
import { CheckpointError } from "../src/model/checkpoint/errors.ts";
import { ensureModel, listCachedModels, localModelName } from "../src/model/model_cache.ts";
import { ModelError, UnknownModelError } from "../src/model/model_error.ts";
import { MANIFEST_FILE, readManifest } from "../src/model/model_manifest.ts";
import { sha256File } from "../src/model/sha256_file.ts";
import { closedPortUrl } from "./helpers/http_server.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

const FIXTURE_CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

/**
 * One cache with the fixture built as a local checkpoint, shared by the tests below that
 * change it and check how it is repaired (each leaves it current again), so the fixture is
 * built a handful of times rather than once per test.
 */
let sharedCache: Promise<{ cacheDir: string; dir: string; sha256: string }> | undefined;
function localCache(): Promise<{ cacheDir: string; dir: string; sha256: string }> {
  sharedCache ??= (async () => {
    const cacheDir = await Deno.makeTempDir({ prefix: "model_cache_" });
    const model = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
    });
    return { cacheDir, dir: model.dir, sha256: model.checkpointSha256 };
  })();
  return sharedCache;
}

async function files(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((item) => item.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function mtime(path: string): Promise<number> {
  return (await Deno.stat(path)).mtime!.getTime();
}

async function editManifest(
  dir: string,
  edit: (manifest: Record<string, unknown>) => void,
): Promise<void> {
  const path = `${dir}/${MANIFEST_FILE}`;
  const manifest = JSON.parse(await Deno.readTextFile(path));
  edit(manifest);
  await Deno.writeTextFile(path, JSON.stringify(manifest));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => null, (caught) => caught);
  assert.ok(error instanceof Error, "expected a rejection");
  assert.ok(!error.message.includes("\n"), "the message is one line");
  return error;
}

Deno.test({
  name:
    "a local checkpoint builds into local-<12 hex of its SHA-256>, uncopied; calling again rebuilds nothing",
  ignore: !sharedAvailable,
  async fn() {
    const { cacheDir, dir, sha256 } = await localCache();
    assert.equal(sha256, await sha256File(FIXTURE_CHECKPOINT));
    assert.equal(dir, `${cacheDir}/${localModelName(sha256)}`);
    assert.match(localModelName(sha256), /^local-[0-9a-f]{12}$/);
    assert.deepEqual(await files(dir), ["decoder.fp32.onnx", "encoder.fp32.onnx", MANIFEST_FILE]);
    assert.deepEqual(await files(cacheDir), [localModelName(sha256)], "no lock file left");
    const manifest = await readManifest(dir);
    assert.ok(manifest);
    assert.deepEqual(manifest.source, { kind: "file", path: FIXTURE_CHECKPOINT });
    assert.deepEqual(manifest.checkpoint, { sha256, bytes: 40706146, file: null });
    assert.equal(manifest.graphs.fp32.builderVersion, BUILDER_VERSION);

    const before = await mtime(`${dir}/encoder.fp32.onnx`);
    const again = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
    });
    assert.equal(again.built, false);
    assert.equal(again.encoder, `${dir}/encoder.fp32.onnx`);
    assert.equal(await mtime(`${dir}/encoder.fp32.onnx`), before);
    const byName = await ensureModel({ model: localModelName(sha256) }, {
      precision: "fp32",
      cacheDir,
    });
    assert.deepEqual({ ...byName }, { ...again });
  },
});

Deno.test({
  name: "graphs are rebuilt when the manifest's builder version differs, and only then",
  ignore: !sharedAvailable,
  async fn() {
    const { cacheDir, dir } = await localCache();
    const encoder = `${dir}/encoder.fp32.onnx`;
    const unchanged = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
    });
    assert.equal(unchanged.built, false);

    await editManifest(dir, (manifest) => {
      (manifest.graphs as Record<string, Record<string, unknown>>).fp32.builderVersion = "0-older";
    });
    const before = await mtime(encoder);
    const lines: string[] = [];
    const rebuilt = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
      onProgress: (line) => lines.push(line),
    });
    assert.equal(rebuilt.built, true);
    assert.ok(await mtime(encoder) > before, "the encoder was rewritten");
    assert.equal((await readManifest(dir))?.graphs.fp32.builderVersion, BUILDER_VERSION);
    assert.ok(
      lines.some((line) => line.startsWith("building fp32 graphs of local-")),
      lines.join(" | "),
    );
  },
});

Deno.test({
  name:
    "a missing graph file or an unreadable manifest causes a rebuild; leftovers of a killed run are removed",
  ignore: !sharedAvailable,
  async fn() {
    const { cacheDir, dir } = await localCache();
    await Deno.remove(`${dir}/decoder.fp32.onnx`);
    await Deno.writeFile(`${dir}/encoder.fp32.onnx.4242.partial`, new Uint8Array(10));
    const afterMissing = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
    });
    assert.equal(afterMissing.built, true);
    assert.deepEqual(await files(dir), ["decoder.fp32.onnx", "encoder.fp32.onnx", MANIFEST_FILE]);

    await Deno.writeTextFile(`${dir}/${MANIFEST_FILE}`, "{ not json");
    const afterGarbage = await ensureModel({ checkpoint: FIXTURE_CHECKPOINT }, {
      precision: "fp32",
      cacheDir,
    });
    assert.equal(afterGarbage.built, true);
    assert.ok(await readManifest(dir));
  },
});

Deno.test({
  name: "an unknown model name is refused with one line listing the registry and local builds",
  ignore: !sharedAvailable,
  async fn() {
    const { cacheDir, sha256 } = await localCache();
    const error = await rejection(
      ensureModel({ model: "sam-vit-h" }, { precision: "fp32", cacheDir }),
    );
    assert.ok(error instanceof UnknownModelError);
    assert.equal(
      error.message,
      `unknown model 'sam-vit-h'; known models: tinysam-42.3, tinysam-41.9, mobilesam; built from local files: ${
        localModelName(sha256)
      }`,
    );
    const listed = await listCachedModels(cacheDir);
    assert.deepEqual(listed.map((entry) => [entry.name, entry.graphs]), [
      [localModelName(sha256), [{ precision: "fp32", current: true }]],
    ]);
  },
});

Deno.test("an unknown model name in an empty cache lists the registry's names", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "model_cache_" });
  try {
    const error = await rejection(
      ensureModel({ model: "../etc" }, { precision: "fp32", cacheDir }),
    );
    assert.ok(error instanceof UnknownModelError);
    assert.equal(
      error.message,
      "unknown model '../etc'; known models: tinysam-42.3, tinysam-41.9, mobilesam",
    );
    assert.throws(() => registryModel("sam"), UnknownModelError);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name:
    "a truncated or non-checkpoint file fails with one CheckpointError line and leaves no graphs or manifest",
  ignore: !sharedAvailable,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "model_cache_" });
    try {
      const cacheDir = `${work}/cache`;
      const truncated = `${work}/truncated.pth`;
      const bytes = await Deno.readFile(FIXTURE_CHECKPOINT);
      await Deno.writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
      const notCheckpoint = `${work}/notes.pth`;
      await Deno.writeTextFile(notCheckpoint, "these are not the weights you are looking for\n");
      for (const path of [truncated, notCheckpoint]) {
        const error = await rejection(
          ensureModel({ checkpoint: path }, { precision: "fp32", cacheDir }),
        );
        assert.ok(error instanceof CheckpointError, `${error}`);
        assert.ok(error.message.startsWith(path), error.message);
        assert.deepEqual(await files(cacheDir), [], "no entry, no lock");
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test("a missing checkpoint file or an unsafe entry name is refused with one line", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "model_cache_" });
  try {
    const missing = await rejection(
      ensureModel({ checkpoint: `${cacheDir}/nope.pth` }, { precision: "fp32", cacheDir }),
    );
    assert.ok(missing instanceof ModelError);
    assert.equal(missing.message, `checkpoint file not found: ${cacheDir}/nope.pth`);
    const directory = await rejection(
      ensureModel({ checkpoint: cacheDir }, { precision: "fp32", cacheDir }),
    );
    assert.equal(directory.message, `checkpoint ${cacheDir} is not a file`);

    await Deno.writeFile(`${cacheDir}/tiny.pth`, new Uint8Array(16));
    const unsafe = await rejection(
      ensureModel({ checkpoint: `${cacheDir}/tiny.pth`, name: "../outside" }, {
        precision: "fp32",
        cacheDir,
      }),
    );
    assert.match(unsafe.message, /^invalid model name '\.\.\/outside'/);
    const tooSmall = await rejection(
      ensureModel({ checkpoint: `${cacheDir}/tiny.pth`, name: "mobilesam" }, {
        precision: "fp32",
        cacheDir,
      }),
    );
    assert.equal(
      tooSmall.message,
      `${cacheDir}/tiny.pth is 0.0 MB, but mobilesam checkpoints are 35.0-45.0 MB`,
    );
    assert.deepEqual(await files(cacheDir), ["tiny.pth"]);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name:
    "a file imported under a registry name is copied in and serves that name offline, also after a crash",
  ignore: !sharedAvailable,
  async fn() {
    const cacheDir = await Deno.makeTempDir({ prefix: "model_cache_" });
    const offline = closedPortUrl("/mirror");
    try {
      const imported = await ensureModel(
        { checkpoint: FIXTURE_CHECKPOINT, name: "tinysam-42.3" },
        { precision: "fp32", cacheDir },
      );
      assert.equal(imported.dir, `${cacheDir}/tinysam-42.3`);
      assert.deepEqual(await files(imported.dir), [
        "checkpoint.pth",
        "decoder.fp32.onnx",
        "encoder.fp32.onnx",
        MANIFEST_FILE,
      ]);
      const manifest = await readManifest(imported.dir);
      assert.deepEqual(manifest?.source, { kind: "file", path: FIXTURE_CHECKPOINT });
      assert.equal(manifest?.checkpoint.file, "checkpoint.pth");

      const byName = await ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: offline,
      });
      assert.deepEqual([byName.downloaded, byName.built], [false, false]);

      // A run killed after the checkpoint was in place but before the manifest was written.
      await Deno.remove(`${imported.dir}/${MANIFEST_FILE}`);
      const recovered = await ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: offline,
      });
      assert.deepEqual([recovered.downloaded, recovered.built], [false, true]);
      assert.equal(recovered.checkpointSha256, imported.checkpointSha256);
      const recorded = await readManifest(imported.dir);
      assert.deepEqual(recorded?.source, { kind: "file", path: `${imported.dir}/checkpoint.pth` });
    } finally {
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a name built from a local file keeps working after the file is gone, and says so when it must be rebuilt",
  ignore: !sharedAvailable,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "model_cache_" });
    try {
      const cacheDir = `${work}/cache`;
      const copy = `${work}/mine.pth`;
      await Deno.copyFile(FIXTURE_CHECKPOINT, copy);
      const built = await ensureModel({ checkpoint: copy, name: "my-tinysam" }, {
        precision: "fp32",
        cacheDir,
      });
      assert.equal(built.dir, `${cacheDir}/my-tinysam`);
      await Deno.remove(copy);

      const reused = await ensureModel({ model: "my-tinysam" }, { precision: "fp32", cacheDir });
      assert.deepEqual([reused.built, reused.encoder], [false, built.encoder]);

      await editManifest(built.dir, (manifest) => {
        (manifest.graphs as Record<string, Record<string, unknown>>).fp32.builderVersion =
          "0-older";
      });
      const error = await rejection(
        ensureModel({ model: "my-tinysam" }, { precision: "fp32", cacheDir }),
      );
      assert.equal(
        error.message,
        `cache entry 'my-tinysam' was built from ${copy}, which is gone or has changed; ` +
          "rebuild it with deno task model:build --checkpoint FILE --name my-tinysam",
      );
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test("the cache lock makes a second holder wait, and a lock left by a dead process is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "model_cache_" });
  try {
    const lockPath = `${dir}/entry.lock`;
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    const first = withFileLock(lockPath, async () => {
      order.push("first starts");
      await held;
      order.push("first ends");
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waited: string[] = [];
    const second = withFileLock(lockPath, () => {
      order.push("second runs");
      return Promise.resolve();
    }, { pollMs: 20, onWait: (holder) => waited.push(holder) });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(order, ["first starts"]);
    assert.deepEqual(waited, [`process ${Deno.pid} on ${Deno.hostname()}`]);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ["first starts", "first ends", "second runs"]);
    assert.deepEqual(await files(dir), [], "the lock is removed after use");

    // No process has this id (above Linux's largest pid_max).
    const dead = { pid: 2 ** 31 - 1, hostname: Deno.hostname(), since: new Date().toISOString() };
    await Deno.writeTextFile(lockPath, JSON.stringify(dead));
    const result = await withFileLock(lockPath, () => Promise.resolve("ran"), {
      onWait: () => assert.fail("a dead holder's lock must not be waited for"),
    });
    assert.equal(result, "ran");

    // A lock nobody touched for longer than staleAfterMs is taken over too.
    await Deno.writeTextFile(lockPath, "");
    const old = new Date(Date.now() - 10_000);
    await Deno.utime(lockPath, old, old);
    assert.equal(
      await withFileLock(lockPath, () => Promise.resolve(1), { staleAfterMs: 5_000 }),
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the registry lists vit_t checkpoints with their URLs, and a mirror replaces the URL's base", () => {
  assert.equal(DEFAULT_MODEL, "tinysam-42.3");
  assert.deepEqual(MODEL_REGISTRY.map((model) => [model.name, model.cocoAp]), [
    ["tinysam-42.3", 42.3],
    ["tinysam-41.9", 41.9],
    ["mobilesam", 41.0],
  ]);
  for (const model of MODEL_REGISTRY) {
    assert.equal(model.architecture, "vit_t");
    assert.ok(model.url.endsWith(`/${model.fileName}`));
    assert.ok(model.expectedBytes.min <= 40_706_146 && 40_706_146 <= model.expectedBytes.max);
    assert.ok(model.sha256 === null || /^[0-9a-f]{64}$/.test(model.sha256));
  }
  const tinysam = registryModel("tinysam-42.3");
  assert.equal(
    downloadUrl(tinysam),
    "https://github.com/xinghaochen/TinySAM/releases/download/3.0/tinysam_42.3.pth",
  );
  assert.equal(
    downloadUrl(tinysam, "http://10.0.0.5/models/"),
    "http://10.0.0.5/models/tinysam_42.3.pth",
  );
  assert.equal(downloadUrl(tinysam, ""), tinysam.url);
});

Deno.test({
  name: "the shared test cache is removed",
  ignore: !sharedAvailable,
  async fn() {
    if (sharedCache) await Deno.remove((await sharedCache).cacheDir, { recursive: true });
  },
});
