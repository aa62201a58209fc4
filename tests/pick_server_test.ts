/**
 * The pick server without a browser: prompt decodes match the sample's ground truth, embeddings are
 * computed once per visited frame within their bound, the everything pass offers adoptable masks,
 * tracking reports progress and can be cancelled without leaving outputs, prompts are checked as
 * `segment` checks them, and hostile requests get 4xx answers while the server keeps serving. The
 * command (`deno task pick`) prints its address, refuses bad arguments in one line, and on Ctrl-C
 * stops a tracking run with its ffmpeg processes.
 */
import assert from "node:assert/strict";
import type { Frame } from "../src/frame.ts";
import { decodeRle, rleIou } from "../src/segment/rle.ts";
import { MAX_BODY_BYTES } from "../src/pick/guard.ts";
import { serveFile } from "../src/pick/serve_file.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";
import {
  coverage,
  HeldSegmenter,
  type PickFixture,
  rawRequest,
  startPick,
} from "./helpers/pick.ts";
import { sampleGroundTruth, SAMPLES_DIR } from "./helpers/sample_frames.ts";
import { LineWatcher } from "./helpers/lines.ts";
import { TEST_CLI } from "./helpers/batch.ts";
import { childProcesses, exists, REPO_DIR, runScriptCli } from "./helpers/video.ts";

const GREEN_ELLIPSE = { id: 1, point: [120, 120] as [number, number] };

/** Asks for object 1's mask from one click on the green ellipse on `frame`. */
function clickEllipse(pick: PickFixture, frame = 0): Promise<Response> {
  return pick.api("/api/decode", {
    frame,
    objects: [{ id: 1, points: [GREEN_ELLIPSE.point], negativePoints: [] }],
  });
}

/** After a run that did not complete: nothing in the output directory, the model free again. */
async function assertNothingLeftAndModelBack(pick: PickFixture): Promise<void> {
  assert.deepEqual([...Deno.readDirSync(pick.outputDir)], [], "no outputs, no partial directory");
  const after = await clickEllipse(pick);
  assert.equal(after.status, 200, "the model is back for prompts");
  await after.body?.cancel();
}

Deno.test("a click decodes the object's mask: it covers the ground truth and little else", async () => {
  const pick = await startPick();
  try {
    const truth = (await sampleGroundTruth("crossing", 0)).get(GREEN_ELLIPSE.id)!;
    const response = await clickEllipse(pick);
    assert.equal(response.status, 200);
    const answer = await response.json();
    assert.equal(answer.masks.length, 1);
    const mask = decodeRle(answer.masks[0].rle);
    const { covered, outside } = coverage(mask.data, truth);
    assert.ok(covered >= 0.9, `covers ${covered} of the ellipse`);
    assert.ok(outside <= 0.1, `${outside} of the mask is outside the ellipse`);
  } finally {
    await pick.close();
  }
});

Deno.test("each visited frame is embedded once while among the last ones kept", async () => {
  const segmenter = new RegionGrowingSegmenter();
  const pick = await startPick({ segmenter, embeddingsKept: 3 });
  try {
    const decode = async (frame: number) => {
      const response = await clickEllipse(pick, frame);
      assert.equal(response.status, 200, await response.clone().text());
      await response.body?.cancel();
    };
    await decode(0);
    await decode(0);
    assert.equal(segmenter.calls.embeds, 1, "a second click on the frame reuses its embedding");
    for (const frame of [1, 2, 3]) await decode(frame);
    assert.equal(segmenter.calls.embeds, 4);
    await decode(0);
    assert.equal(segmenter.calls.embeds, 5, "frame 0 fell out of the three kept: embedded again");
    await decode(3);
    assert.equal(segmenter.calls.embeds, 5);
  } finally {
    await pick.close();
  }
});

Deno.test("the everything pass offers the objects it finds, each with a prompt that decodes to it", async () => {
  const pick = await startPick();
  try {
    const answer = await (await pick.api("/api/everything", { frame: 0 })).json();
    const truth = await sampleGroundTruth("crossing", 0);
    // The region-growing double is no TinySAM: on this frame its sparse grid finds two of the
    // three objects. What is found must be an object, and adopting it must give it back.
    const matched = [...truth].filter(([, mask]) =>
      answer.found.some((found: { rle: { size: [number, number]; counts: number[] } }) => {
        const { covered, outside } = coverage(decodeRle(found.rle).data, mask);
        return covered >= 0.9 && outside <= 0.1;
      })
    );
    assert.ok(matched.length >= 2, `${matched.length} of ${truth.size} objects found`);
    assert.ok(answer.found.length > 0);
    for (const found of answer.found) {
      const decoded = await (await pick.api("/api/decode", {
        frame: 0,
        objects: [{ id: 1, negativePoints: [], ...found.prompt }],
      })).json();
      const iou = rleIou(decoded.masks[0].rle, found.rle);
      assert.ok(iou >= 0.8, `an adopted mask decodes to IoU ${iou} with the found one`);
    }
  } finally {
    await pick.close();
  }
});

Deno.test("a tracking run reports progress, refuses prompts meanwhile, and cancelled leaves nothing", async () => {
  const segmenter = new HeldSegmenter();
  const pick = await startPick({ segmenter });
  const hold = segmenter.holdNext(5);
  try {
    const prompts = {
      objects: [{ id: 1, prompts: [{ frame: 0, points: [GREEN_ELLIPSE.point] }] }],
    };
    const started = await pick.api("/api/track", { prompts, options: { stride: 1 } });
    assert.equal(started.status, 202);
    assert.equal((await started.json()).state, "running");
    await hold.held;
    const running = await (await pick.api("/api/track")).json();
    assert.equal(running.state, "running");
    assert.equal(running.totalFrames, 90);
    const busy = await clickEllipse(pick);
    assert.equal(busy.status, 409);
    assert.match((await busy.json()).error, /busy with a tracking run/);
    const again = await pick.api("/api/track", { prompts, options: {} });
    assert.equal(again.status, 409);
    await again.body?.cancel();
    await (await pick.api("/api/track/cancel", {})).body?.cancel();
    hold.release();
    await pick.server.tracking.finished;
    const cancelled = await (await pick.api("/api/track")).json();
    assert.equal(cancelled.state, "cancelled");
    await assertNothingLeftAndModelBack(pick);
  } finally {
    await pick.close();
  }
});

Deno.test("prompts are checked as segment checks them, with its one-line reasons", async () => {
  const pick = await startPick();
  try {
    const cases: [string, unknown, number, RegExp][] = [
      [
        "/api/decode",
        { frame: 0, objects: [{ id: 1, points: [[900, 10]], negativePoints: [] }] },
        400,
        /outside the 480x270 frame|outside/,
      ],
      [
        "/api/decode",
        { frame: 0, objects: [{ id: 1, points: [], negativePoints: [[5, 5]] }] },
        400,
        /positive point or a box/,
      ],
      ["/api/decode", { frame: 90, objects: [] }, 404, /past the end/],
      ["/api/decode", { frame: -1, objects: [] }, 400, /frame/],
      ["/api/save", { prompts: { objects: [] } }, 400, /objects/],
      [
        "/api/save",
        { prompts: { objects: [{ id: 1, prompts: [{ frame: 0, box: [50, 50, 10, 10] }] }] } },
        400,
        /box/,
      ],
      [
        "/api/track",
        {
          prompts: { objects: [{ id: 1, prompts: [{ frame: 500, points: [[1, 1]] }] }] },
          options: {},
        },
        400,
        /frame 500/,
      ],
    ];
    for (const [path, body, status, reason] of cases) {
      const response = await pick.api(path, body);
      const answer = await response.json();
      assert.equal(response.status, status, `${path} ${JSON.stringify(body)}: ${answer.error}`);
      assert.match(answer.error, reason);
      assert.ok(!answer.error.includes("\n"), "one line");
    }
  } finally {
    await pick.close();
  }
});

Deno.test("hostile requests get 4xx answers and the server keeps serving", async () => {
  const pick = await startPick();
  const { port, token } = pick.server;
  const host = `host: 127.0.0.1:${port}`;
  try {
    const refused: [string, number][] = [
      [`GET /api/video HTTP/1.1\r\n${host}`, 401],
      [`GET /api/video?token=${"0".repeat(32)} HTTP/1.1\r\n${host}`, 401],
      [`GET / HTTP/1.1\r\n${host}`, 401],
      [`GET /api/video?token=${token} HTTP/1.1\r\nhost: evil.example:${port}`, 403],
      [
        `GET /api/video?token=${token} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\norigin: http://evil.example`,
        403,
      ],
      [
        `POST /api/decode?token=${token} HTTP/1.1\r\n${host}\r\norigin: http://127.0.0.1:${
          port + 1
        }\r\ncontent-type: application/json`,
        403,
      ],
      [`GET /api/video?token=${token} HTTP/1.1\r\n${host}\r\nsec-fetch-site: cross-site`, 403],
    ];
    for (const [head, status] of refused) {
      const answer = await rawRequest(port, head);
      assert.equal(answer.status, status, head);
      assert.ok(!answer.text.includes('"width"'), "nothing served");
    }
    const secret = await Deno.readTextFile(`${REPO_DIR}/deno.json`);
    const traversals = [
      "/../deno.json",
      "/../../../../etc/passwd",
      "/%2e%2e/deno.json",
      "/%2E%2E/%2E%2E/etc/passwd",
      "/..%2fdeno.json",
      "/%2e%2e%2fdeno.json",
      "/pick.js/../../deno.json",
      "/api/frame/..%2f..%2fdeno.json",
      "/api/track/..%2f..%2f..%2fdeno.json",
      "/web/pick.js",
      "/src/cli/pick.ts",
      "/..\\deno.json",
      "/%5c..%5cdeno.json",
    ];
    for (const path of traversals) {
      const sep = path.includes("?") ? "&" : "?";
      const answer = await rawRequest(port, `GET ${path}${sep}token=${token} HTTP/1.1\r\n${host}`);
      assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
      assert.ok(!answer.text.includes(secret.slice(0, 40)), `${path} served a file`);
      assert.ok(!answer.text.includes("root:"), `${path} served /etc/passwd`);
    }
    const bodies: [string, string, string, number][] = [
      ["/api/decode", "application/json", "{garbage", 400],
      ["/api/decode", "application/json", "[1, 2, 3]", 400],
      ["/api/decode", "application/json", '{"frame": 0, "objects": "x"}', 400],
      ["/api/decode", "application/json", '{"frame": 0, "objects": [], "extra": 1}', 400],
      ["/api/decode", "text/plain", '{"frame": 0, "objects": []}', 415],
      ["/api/decode", "application/json", "\xff\xfe{}", 400],
      [
        "/api/save",
        "application/json",
        JSON.stringify({ prompts: "x".repeat(MAX_BODY_BYTES) }),
        413,
      ],
      ["/api/everything", "application/json", "null", 400],
      ["/api/track", "application/json", "{}", 400],
    ];
    for (const [path, type, body, status] of bodies) {
      const answer = await rawRequest(
        port,
        `POST ${path}?token=${token} HTTP/1.1\r\n${host}\r\ncontent-type: ${type}`,
        body,
      );
      assert.equal(answer.status, status, `${path} ${body.slice(0, 40)}`);
    }
    const wrongMethod = await pick.api("/api/decode");
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.body?.cancel();
    const video = await pick.api("/api/video");
    assert.equal(video.status, 200, "still serving");
    assert.equal((await video.json()).width, 480);
    const page = await fetch(`${pick.server.url}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.match(await page.text(), new RegExp(`/pick\\.js\\?token=${token}`));
  } finally {
    await pick.close();
  }
});

Deno.test("deno task pick: bad arguments and a missing video are one line and an exit code", async () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--input is required/],
    [["--input", `${SAMPLES_DIR}/crossing/video.mp4`, "--port", "http"], 2, /--port must be/],
    [
      ["--input", `${SAMPLES_DIR}/crossing/video.mp4`, "--embeddings", "0"],
      2,
      /--embeddings must be at least 1/,
    ],
    [["--input", `${SAMPLES_DIR}/crossing/video.mp4`, "--precision", "int4"], 2, /precision/],
    [["--input", "/nonexistent/clip.mp4"], 1, /clip\.mp4/],
    [["--input", "-"], 2, /video file/],
    [["--input", `${SAMPLES_DIR}/crossing/video.mp4`, "--bogus"], 2, /bogus/],
  ];
  for (const [args, code, reason] of cases) {
    const result = await runScriptCli(TEST_CLI, ["pick", ...args]);
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderrLines.join("\n")}`);
    assert.equal(result.stderrLines.length, 1, result.stderrLines.join("\n"));
    assert.match(result.stderrLines[0], reason);
    assert.equal(result.stdout.length, 0);
  }
});

Deno.test("deno task pick prints its address; Ctrl-C during tracking stops ffmpeg and leaves no outputs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pick_cli_" });
  const gate = `${dir}/gate`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TEST_CLI,
      "pick",
      "--input",
      `${SAMPLES_DIR}/crossing/video.mp4`,
      "--output-dir",
      `${dir}/out`,
    ],
    env: { HOLD_AT_EMBED: "4", GATE: gate },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineWatcher(child.stdout);
  const stderr = new LineWatcher(child.stderr);
  try {
    const url = await stdout.waitFor((line) => line.startsWith("http://"), "the address");
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
    const { origin, searchParams } = new URL(url);
    const started = await fetch(`${origin}/api/track`, {
      method: "POST",
      headers: { "x-pick-token": searchParams.get("token")!, "content-type": "application/json" },
      body: JSON.stringify({
        prompts: { objects: [{ id: 1, prompts: [{ frame: 0, points: [GREEN_ELLIPSE.point] }] }] },
        options: {},
      }),
    });
    assert.equal(started.status, 202);
    await started.body?.cancel();
    await stdout.waitFor((line) => line === "held 4", "the held embedding");
    const ffmpegs = childProcesses(child.pid).filter((p) => p.command.includes("ffmpeg"));
    assert.ok(ffmpegs.length >= 2, "decoding and encoding ffmpeg run");
    child.kill("SIGINT");
    await stderr.waitFor((line) => line === "pick: stopping", "the stopping line");
    await Deno.writeTextFile(gate, "");
    const status = await child.status;
    assert.equal(status.code, 130);
    for (const { pid } of ffmpegs) {
      const alive = exists(`/proc/${pid}`) &&
        !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
      assert.ok(!alive, `ffmpeg ${pid} still runs`);
    }
    const left = exists(`${dir}/out`) ? [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name) : [];
    assert.deepEqual(left, [], "no track outputs and no partial directory");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
    await stdout.ended;
    await stderr.ended;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("files are served whole or by byte range, as a video element asks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "serve_file_" });
  try {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    await Deno.writeFile(`${dir}/f.bin`, bytes);
    const get = async (range?: string) => {
      const request = new Request("http://127.0.0.1/f", range ? { headers: { range } } : {});
      const response = (await serveFile(request, `${dir}/f.bin`, "video/mp4"))!;
      return {
        status: response.status,
        range: response.headers.get("content-range"),
        body: new Uint8Array(await response.arrayBuffer()),
      };
    };
    const whole = await get();
    assert.equal(whole.status, 200);
    assert.deepEqual(whole.body, bytes);
    const middle = await get("bytes=100-199");
    assert.deepEqual([middle.status, middle.range], [206, "bytes 100-199/1000"]);
    assert.deepEqual(middle.body, bytes.slice(100, 200));
    const open = await get("bytes=990-");
    assert.deepEqual([open.range, open.body], ["bytes 990-999/1000", bytes.slice(990)]);
    const suffix = await get("bytes=-5");
    assert.deepEqual([suffix.range, suffix.body], ["bytes 995-999/1000", bytes.slice(995)]);
    const outside = await get("bytes=1000-1010");
    assert.deepEqual([outside.status, outside.range], [416, "bytes */1000"]);
    assert.equal(await serveFile(new Request("http://127.0.0.1/"), `${dir}/none`, "x"), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tracking run that fails says why in one line and leaves no outputs", async () => {
  class FailingSegmenter extends RegionGrowingSegmenter {
    #embeds = 0;
    failAt = Infinity;
    override embed(frame: Frame) {
      if (++this.#embeds === this.failAt) {
        return Promise.reject(new Error("encoder session lost\nsecond line"));
      }
      return super.embed(frame);
    }
  }
  const segmenter = new FailingSegmenter();
  segmenter.failAt = 6;
  const pick = await startPick({ segmenter });
  try {
    const prompts = {
      objects: [{ id: 1, prompts: [{ frame: 0, points: [GREEN_ELLIPSE.point] }] }],
    };
    await (await pick.api("/api/track", { prompts, options: {} })).body?.cancel();
    await pick.server.tracking.finished;
    const failed = await (await pick.api("/api/track")).json();
    assert.equal(failed.state, "failed");
    assert.equal(failed.error, "encoder session lost");
    await assertNothingLeftAndModelBack(pick);
  } finally {
    await pick.close();
  }
});
