/**
 * `model:fetch` against a real HTTP server on 127.0.0.1 serving the fixture checkpoint:
 * download, redirects, interrupted and stalled downloads, wrong sizes, HTTP errors, network
 * failures, and concurrent first runs.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { BUILDER_VERSION } from "../src/model/build.ts";
import { downloadFile, OFFLINE_HINT } from "../src/model/download.ts";
import { ensureModel, type EnsureModelOptions } from "../src/model/model_cache.ts";
import { ModelError } from "../src/model/model_error.ts";
import { readManifest } from "../src/model/model_manifest.ts";
import { sha256File } from "../src/model/sha256_file.ts";
import { progressBarLine, terminalProgress } from "../src/model/terminal_progress.ts";
import {
  closedPortUrl,
  fileResponse,
  redirectResponse,
  serveRoutes,
  stallingResponse,
  truncatedResponse,
  unsizedResponse,
} from "./helpers/http_server.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

const FIXTURE_CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;
/** What `tinysam-42.3` is called on a mirror. */
const FILE_PATH = "/releases/tinysam_42.3.pth";

let fixtureBytes: Uint8Array | undefined;
async function fixture(): Promise<Uint8Array> {
  fixtureBytes ??= await Deno.readFile(FIXTURE_CHECKPOINT);
  return fixtureBytes;
}

function options(
  cacheDir: string,
  baseUrl: string,
  extra: Partial<EnsureModelOptions> = {},
): EnsureModelOptions {
  return { precision: "fp32", cacheDir, mirror: `${baseUrl}/releases`, ...extra };
}

/** Every file under `dir`, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string, prefix: string) => {
    for await (const item of Deno.readDir(at)) {
      if (item.isDirectory) await walk(`${at}/${item.name}`, `${prefix}${item.name}/`);
      else found.push(`${prefix}${item.name}`);
    }
  };
  await walk(dir, "").catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  return found.sort();
}

async function rejectsWithModelError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (caught) => caught);
  assert.ok(error instanceof ModelError, `expected a ModelError, got ${error}`);
  assert.ok(!error.message.includes("\n"), "the message is one line");
  return error.message;
}

Deno.test({
  name:
    "fetch downloads through a redirect, verifies, builds graphs ONNX Runtime loads and writes the manifest; " +
    "a second call neither downloads nor rebuilds",
  ignore: !sharedAvailable,
  async fn() {
    const bytes = await fixture();
    const server = serveRoutes({
      [FILE_PATH]: () => redirectResponse("/storage/object-1234"),
      "/storage/object-1234": () => fileResponse(bytes),
    });
    const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
    try {
      const statusLines: string[] = [];
      let lastProgress = 0;
      const model = await ensureModel({ model: "tinysam-42.3" }, {
        ...options(cacheDir, server.baseUrl),
        onProgress: (line) => statusLines.push(line),
        onDownloadProgress: (progress) => lastProgress = progress.receivedBytes,
      });
      assert.deepEqual(server.requests, [FILE_PATH, "/storage/object-1234"]);
      assert.equal(lastProgress, bytes.length);
      assert.ok(statusLines.some((line) => line.includes(`${server.baseUrl}${FILE_PATH}`)));
      assert.equal(model.name, "tinysam-42.3");
      assert.equal(model.dir, `${cacheDir}/tinysam-42.3`);
      assert.equal(model.downloaded, true);
      assert.equal(model.built, true);
      const sha256 = await sha256File(FIXTURE_CHECKPOINT);
      assert.equal(model.checkpointSha256, sha256);
      assert.equal(await sha256File(`${model.dir}/checkpoint.pth`), sha256);

      const manifest = await readManifest(model.dir);
      assert.ok(manifest);
      assert.equal(manifest.model, "tinysam-42.3");
      assert.deepEqual(manifest.source, { kind: "url", url: `${server.baseUrl}${FILE_PATH}` });
      assert.deepEqual(manifest.checkpoint, {
        sha256,
        bytes: bytes.length,
        file: "checkpoint.pth",
      });
      const fp32 = manifest.graphs.fp32;
      assert.equal(fp32.builderVersion, BUILDER_VERSION);
      assert.equal(fp32.checkpointSha256, sha256);
      assert.deepEqual(fp32.files, { encoder: "encoder.fp32.onnx", decoder: "decoder.fp32.onnx" });
      assert.ok(!Number.isNaN(Date.parse(fp32.builtAt)));
      assert.deepEqual(await filesUnder(cacheDir), [
        "tinysam-42.3/checkpoint.pth",
        "tinysam-42.3/decoder.fp32.onnx",
        "tinysam-42.3/encoder.fp32.onnx",
        "tinysam-42.3/manifest.json",
      ]);

      const encoder = await ort.InferenceSession.create(model.encoder);
      const decoder = await ort.InferenceSession.create(model.decoder);
      try {
        assert.deepEqual(encoder.outputNames, ["image_embeddings"]);
        assert.ok(decoder.inputNames.includes("point_coords"));
        assert.ok(decoder.outputNames.includes("low_res_masks"));
      } finally {
        await encoder.release();
        await decoder.release();
      }

      const mtimes = async () =>
        await Promise.all(
          ["checkpoint.pth", "encoder.fp32.onnx", "decoder.fp32.onnx", "manifest.json"]
            .map(async (file) => (await Deno.stat(`${model.dir}/${file}`)).mtime?.getTime()),
        );
      const before = await mtimes();
      const again = await ensureModel({ model: "tinysam-42.3" }, options(cacheDir, server.baseUrl));
      assert.equal(server.requests.length, 2, "no new request");
      assert.equal(again.downloaded, false);
      assert.equal(again.built, false);
      assert.equal(again.encoder, model.encoder);
      assert.deepEqual(await mtimes(), before);
    } finally {
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a download cut off after half its Content-Length names the URL and leaves no file, no .partial, no manifest",
  ignore: !sharedAvailable,
  async fn() {
    const bytes = await fixture();
    const server = serveRoutes({ [FILE_PATH]: () => truncatedResponse(bytes, bytes.length >> 1) });
    const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
    try {
      const message = await rejectsWithModelError(
        ensureModel({ model: "tinysam-42.3" }, options(cacheDir, server.baseUrl)),
      );
      assert.match(message, new RegExp(`^cannot download ${server.baseUrl}${FILE_PATH}: `));
      assert.match(message, /connection (dropped|closed) after \d+ of 40706146 bytes/);
      assert.deepEqual(await filesUnder(cacheDir), [], "nothing cached, nothing partial, no lock");
      assert.equal(await readManifest(`${cacheDir}/tinysam-42.3`), null);
    } finally {
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a Content-Length outside the registry's size range is refused before the body is read",
  async fn() {
    const server = serveRoutes({ [FILE_PATH]: () => fileResponse(new Uint8Array(1000)) });
    const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
    try {
      const message = await rejectsWithModelError(
        ensureModel({ model: "tinysam-42.3" }, options(cacheDir, server.baseUrl)),
      );
      assert.equal(
        message,
        `cannot download ${server.baseUrl}${FILE_PATH}: the server announces 1000 bytes (0.0 MB), expected 35.0-45.0 MB`,
      );
      assert.deepEqual(await filesUnder(cacheDir), []);
    } finally {
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("a body without Content-Length is refused when it is too small or grows too large", async () => {
  const server = serveRoutes({
    "/small/tinysam_42.3.pth": () => unsizedResponse(1000),
    "/large/tinysam_42.3.pth": () => unsizedResponse(46_000_000),
  });
  const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
  try {
    const small = await rejectsWithModelError(
      ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: `${server.baseUrl}/small`,
      }),
    );
    assert.match(
      small,
      /small\/tinysam_42\.3\.pth: received 1000 bytes \(0\.0 MB\), expected 35\.0-45\.0 MB$/,
    );
    const large = await rejectsWithModelError(
      ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: `${server.baseUrl}/large`,
      }),
    );
    assert.match(
      large,
      /large\/tinysam_42\.3\.pth: more than 45000000 bytes received, expected 35\.0-45\.0 MB$/,
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name: "a download whose SHA-256 differs from the expected one is not renamed into place",
  ignore: !sharedAvailable,
  async fn() {
    const bytes = await fixture();
    const server = serveRoutes({ "/file.pth": () => fileResponse(bytes) });
    const dir = await Deno.makeTempDir({ prefix: "model_fetch_" });
    try {
      const expected = { bytes: { min: 35e6, max: 45e6 }, sha256: "0".repeat(64) };
      const message = await rejectsWithModelError(
        downloadFile(`${server.baseUrl}/file.pth`, `${dir}/checkpoint.pth`, { expected }),
      );
      const actual = await sha256File(FIXTURE_CHECKPOINT);
      assert.equal(
        message,
        `cannot download ${server.baseUrl}/file.pth: SHA-256 is ${actual}, expected ${
          "0".repeat(64)
        }`,
      );
      assert.deepEqual(await filesUnder(dir), []);

      const good = await downloadFile(`${server.baseUrl}/file.pth`, `${dir}/checkpoint.pth`, {
        expected: { ...expected, sha256: actual },
      });
      assert.deepEqual(good, {
        path: `${dir}/checkpoint.pth`,
        bytes: bytes.length,
        sha256: actual,
      });
      assert.deepEqual(await filesUnder(dir), ["checkpoint.pth"]);
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("HTTP 404 and 500 fail with the URL and the status, caching nothing", async () => {
  const server = serveRoutes({
    "/broken/tinysam_42.3.pth": () =>
      new Response("boom", { status: 500, statusText: "Internal Server Error" }),
  });
  const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
  try {
    const notFound = await rejectsWithModelError(
      ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: `${server.baseUrl}/missing`,
      }),
    );
    assert.equal(
      notFound,
      `cannot download ${server.baseUrl}/missing/tinysam_42.3.pth: HTTP 404 Not Found`,
    );
    const serverError = await rejectsWithModelError(
      ensureModel({ model: "tinysam-42.3" }, {
        precision: "fp32",
        cacheDir,
        mirror: `${server.baseUrl}/broken`,
      }),
    );
    assert.equal(
      serverError,
      `cannot download ${server.baseUrl}/broken/tinysam_42.3.pth: HTTP 500 Internal Server Error`,
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("with nothing listening, the error names the URL and how to pass a local file", async () => {
  const url = closedPortUrl("/mirror/mobile_sam.pt");
  const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
  try {
    const message = await rejectsWithModelError(
      ensureModel({ model: "mobilesam" }, {
        precision: "fp32",
        cacheDir,
        mirror: url.replace(/\/mobile_sam\.pt$/, ""),
      }),
    );
    assert.match(message, new RegExp(`^cannot download ${url}: .*Connection refused`));
    assert.ok(message.endsWith(`; ${OFFLINE_HINT}`), message);
    assert.match(message, /--checkpoint FILE/);
    assert.match(message, /deno task model:build --checkpoint FILE/);
    assert.deepEqual(await filesUnder(cacheDir), []);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("a download that stops sending data is abandoned after the idle timeout", async () => {
  const server = serveRoutes({ [FILE_PATH]: () => stallingResponse(40_000_000, 65_536) });
  const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
  try {
    const message = await rejectsWithModelError(
      ensureModel(
        { model: "tinysam-42.3" },
        options(cacheDir, server.baseUrl, { downloadIdleTimeoutMs: 300 }),
      ),
    );
    assert.match(
      message,
      new RegExp(`^cannot download ${server.baseUrl}${FILE_PATH}: no data received for 0.3 s`),
    );
    assert.deepEqual(await filesUnder(cacheDir), []);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name: "two concurrent first runs download once and build once",
  ignore: !sharedAvailable,
  async fn() {
    const bytes = await fixture();
    const server = serveRoutes({ [FILE_PATH]: () => fileResponse(bytes) });
    const cacheDir = await Deno.makeTempDir({ prefix: "model_fetch_" });
    try {
      const lines: string[] = [];
      const run = () =>
        ensureModel({ model: "tinysam-42.3" }, {
          ...options(cacheDir, server.baseUrl),
          onProgress: (line) => lines.push(line),
        });
      const [first, second] = await Promise.all([run(), run()]);
      assert.equal(server.count(FILE_PATH), 1);
      assert.deepEqual([first.built, second.built].sort(), [false, true]);
      assert.deepEqual([first.downloaded, second.downloaded].sort(), [false, true]);
      assert.equal(first.encoder, second.encoder);
      assert.ok(lines.some((line) => line.startsWith("waiting for ")), lines.join(" | "));
      assert.deepEqual(await filesUnder(cacheDir), [
        "tinysam-42.3/checkpoint.pth",
        "tinysam-42.3/decoder.fp32.onnx",
        "tinysam-42.3/encoder.fp32.onnx",
        "tinysam-42.3/manifest.json",
      ]);
    } finally {
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("the progress bar shows percent, megabytes and MB/s, and is drawn only on a terminal", () => {
  assert.equal(
    progressBarLine({
      receivedBytes: 17_200_000,
      totalBytes: 40_706_146,
      elapsedSeconds: 2,
      done: false,
    }),
    "[##########--------------]  42%  17.2/40.7 MB  8.6 MB/s",
  );
  assert.equal(
    progressBarLine({
      receivedBytes: 3_000_000,
      totalBytes: null,
      elapsedSeconds: 1.5,
      done: false,
    }),
    "3.0 MB  2.0 MB/s",
  );
  const written = (terminal: boolean) => {
    const chunks: string[] = [];
    const output = {
      isTerminal: () => terminal,
      writeSync: (bytes: Uint8Array) => {
        chunks.push(new TextDecoder().decode(bytes));
        return bytes.length;
      },
    };
    const reporters = terminalProgress(output);
    reporters.onProgress("downloading tinysam-42.3");
    reporters.onDownloadProgress({
      receivedBytes: 1e6,
      totalBytes: 2e6,
      elapsedSeconds: 1,
      done: false,
    });
    reporters.onDownloadProgress({
      receivedBytes: 2e6,
      totalBytes: 2e6,
      elapsedSeconds: 2,
      done: true,
    });
    return chunks.join("");
  };
  assert.equal(written(false), "");
  assert.equal(
    written(true),
    "downloading tinysam-42.3\n" +
      "\r\x1b[2K  [############------------]  50%  1.0/2.0 MB  1.0 MB/s" +
      "\r\x1b[2K  [########################] 100%  2.0/2.0 MB  1.0 MB/s\n",
  );
});
