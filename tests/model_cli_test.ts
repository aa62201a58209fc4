/**
 * `src/cli/model.ts` (the `model:fetch` and `model:build` tasks) run as subprocesses, with
 * the cache in a temporary directory and downloads pointed at a local HTTP server.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { localModelName } from "../src/model/model_cache.ts";
import { sha256File } from "../src/model/sha256_file.ts";
import { fileResponse, serveRoutes } from "./helpers/http_server.ts";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const FIXTURE_CHECKPOINT = `${FIXTURE_DIR}/tinysam_random.pth`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function modelCli(args: string[], env: Record<string, string>): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "src/cli/model.ts", ...args],
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Exactly one stderr line, `error: ...`, and nothing that looks like a stack trace. */
function assertOneErrorLine(run: Run): string {
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `one stderr line expected, got:\n${run.stderr}`);
  assert.match(lines[0], /^error: /);
  assert.doesNotMatch(run.stderr, /^\s+at /m);
  return lines[0];
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((item) => item.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

Deno.test({
  name:
    "model:fetch downloads and builds, printing the graph paths; a second run does nothing; --list shows it",
  ignore: !sharedAvailable,
  async fn() {
    const bytes = await Deno.readFile(FIXTURE_CHECKPOINT);
    const server = serveRoutes({ "/releases/tinysam_42.3.pth": () => fileResponse(bytes) });
    const cacheDir = await Deno.makeTempDir({ prefix: "model_cli_" });
    const env = { TINYSAM_CACHE_DIR: cacheDir, TINYSAM_MODEL_MIRROR: `${server.baseUrl}/releases` };
    try {
      const fetched = await modelCli(["fetch"], env);
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal(fetched.stderr, "", "no progress output when stderr is not a terminal");
      const dir = `${cacheDir}/tinysam-42.3`;
      assert.match(fetched.stdout, /^tinysam-42\.3 \(fp32\) ready: built\n/);
      assert.ok(fetched.stdout.includes(`encoder     ${dir}/encoder.fp32.onnx`), fetched.stdout);
      assert.ok(fetched.stdout.includes(`decoder     ${dir}/decoder.fp32.onnx`), fetched.stdout);
      assert.ok(fetched.stdout.includes(await sha256File(FIXTURE_CHECKPOINT)));
      assert.deepEqual(await entries(dir), [
        "checkpoint.pth",
        "decoder.fp32.onnx",
        "encoder.fp32.onnx",
        "manifest.json",
      ]);
      assert.equal(server.requests.length, 1);

      const again = await modelCli(["fetch", "tinysam-42.3"], env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /ready: already built, nothing to do/);
      assert.equal(server.requests.length, 1, "no second download");

      const listed = await modelCli(["fetch", "--list"], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^tinysam-42\.3 \*\s+42\.3\s+fp32\s+https:/m);
      assert.match(listed.stdout, /^mobilesam\s+41\.0\s+not cached\s+https:/m);
      assert.ok(listed.stdout.includes(`cache: ${cacheDir}`));
    } finally {
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("model:fetch on an HTTP 404 exits 1 with one stderr line naming the URL", async () => {
  const server = serveRoutes({});
  const cacheDir = await Deno.makeTempDir({ prefix: "model_cli_" });
  try {
    const run = await modelCli(["fetch", "mobilesam"], {
      TINYSAM_CACHE_DIR: cacheDir,
      TINYSAM_MODEL_MIRROR: `${server.baseUrl}/gone`,
    });
    assert.equal(run.code, 1);
    assert.equal(
      assertOneErrorLine(run),
      `error: cannot download ${server.baseUrl}/gone/mobile_sam.pt: HTTP 404 Not Found`,
    );
    assert.equal(run.stdout, "");
    assert.deepEqual(await entries(cacheDir), []);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name:
    "model:build --checkpoint builds a local file into local-<hash>; a corrupt file exits 1 leaving nothing",
  ignore: !sharedAvailable,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "model_cli_" });
    const cacheDir = `${work}/cache`;
    try {
      const built = await modelCli(["build", "--checkpoint", FIXTURE_CHECKPOINT], {
        TINYSAM_CACHE_DIR: cacheDir,
      });
      assert.equal(built.code, 0, built.stderr);
      const name = localModelName(await sha256File(FIXTURE_CHECKPOINT));
      assert.match(built.stdout, new RegExp(`^${name} \\(fp32\\) ready: built`));
      assert.deepEqual(await entries(`${cacheDir}/${name}`), [
        "decoder.fp32.onnx",
        "encoder.fp32.onnx",
        "manifest.json",
      ]);

      const corrupt = `${work}/corrupt.pth`;
      const bytes = await Deno.readFile(FIXTURE_CHECKPOINT);
      await Deno.writeFile(corrupt, bytes.subarray(0, 1_000_000));
      const failed = await modelCli(["build", "--checkpoint", corrupt, "--name", "broken"], {
        TINYSAM_CACHE_DIR: cacheDir,
      });
      assert.equal(failed.code, 1);
      assert.match(assertOneErrorLine(failed), new RegExp(`^error: ${corrupt}: `));
      assert.deepEqual(await entries(cacheDir), [name], "no entry for the corrupt file");
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test("usage mistakes exit 2 with one stderr line", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "model_cli_" });
  const env = { TINYSAM_CACHE_DIR: cacheDir };
  try {
    const cases: [string[], RegExp][] = [
      [[], /^error: a command is required: fetch, build/],
      [["download"], /^error: unknown command 'download'; commands: fetch, build/],
      [
        ["fetch", "--bogus"],
        /^error: unknown option '--bogus' \(see deno task model:fetch --help\)$/,
      ],
      [
        ["fetch", "sam-vit-h"],
        /^error: unknown model 'sam-vit-h'; known models: tinysam-42\.3, tinysam-41\.9, mobilesam/,
      ],
      [["fetch", "a", "b"], /^error: expected at most one model name/],
      [["fetch", "--precision", "int4"], /^error: --precision: must be one of fp32/],
      [["build"], /^error: --checkpoint FILE is required/],
      [["build", "--checkpoint"], /^error: Option '--checkpoint <value>' argument missing/],
      [
        ["build", "--checkpoint", "x.pth", "--name", "../up"],
        /^error: --name: use letters, digits/,
      ],
    ];
    for (const [args, expected] of cases) {
      const run = await modelCli(args, env);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(assertOneErrorLine(run), expected);
    }
    const missing = await modelCli(["build", "--checkpoint", `${cacheDir}/absent.pth`], env);
    assert.equal(missing.code, 1);
    assert.equal(
      assertOneErrorLine(missing),
      `error: checkpoint file not found: ${cacheDir}/absent.pth`,
    );
    assert.deepEqual(await entries(cacheDir), []);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("--help of the CLI and of each command prints usage on stdout and exits 0", async () => {
  for (const args of [["--help"], ["fetch", "--help"], ["build", "-h"], ["eval-quant", "--help"]]) {
    const run = await modelCli(args, {});
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^Usage: /);
  }
  const overview = await modelCli(["--help"], {});
  assert.match(overview.stdout, /^ {2}fetch +download a known checkpoint/m);
  assert.match(overview.stdout, /^ {2}build +build graphs from a local checkpoint/m);
  assert.match(overview.stdout, /^ {2}eval-quant +measure the int8 model against fp32/m);
  const fetchHelp = await modelCli(["fetch", "--help"], {});
  assert.match(fetchHelp.stdout, /TINYSAM_MODEL_MIRROR/);
  assert.match(fetchHelp.stdout, /deno task model:build --checkpoint FILE/);
});
