import assert from "node:assert/strict";
import { lastValueFrom, Observable, toArray } from "rxjs";
import type { Frame } from "../src/frame.ts";
import { CreditWindow } from "../src/video/credit_window.ts";
import { pulledStream } from "../src/video/pulled_stream.ts";
import { percentile, StreamStats } from "../src/video/stream_stats.ts";

Deno.test("the window closes after `size` unacknowledged frames and reopens on acknowledgement", async () => {
  const credits = new CreditWindow(2);
  credits.sent(0);
  credits.sent(1);
  assert.equal(credits.isOpen, false);
  let opened = false;
  const waiting = credits.whenOpen().then(() => opened = true);
  await Promise.resolve();
  assert.equal(opened, false);
  credits.acknowledge(0);
  await waiting;
  assert.equal(opened, true);
  assert.deepEqual([credits.outstanding, credits.acknowledged], [1, 1]);
});

Deno.test("acknowledgements are cumulative, so a frame dropped by a stage does not stall", () => {
  const credits = new CreditWindow(3);
  for (const index of [0, 1, 2]) credits.sent(index);
  credits.acknowledge(2); // frames 0 and 1 never reached the tail
  assert.deepEqual([credits.outstanding, credits.acknowledged, credits.isOpen], [0, 3, true]);
  credits.acknowledge(1); // late or repeated acknowledgements change nothing
  assert.equal(credits.acknowledged, 3);
});

Deno.test("waiting for credit is abandoned when the signal aborts", async () => {
  const credits = new CreditWindow(1);
  credits.sent(0);
  const stop = new AbortController();
  const waiting = credits.whenOpen(stop.signal);
  stop.abort(new Error("stopped"));
  await assert.rejects(waiting, /stopped/);
});

Deno.test("pulledStream gives each subscription a fresh window and acknowledges at the tail", async () => {
  const windows: CreditWindow[] = [];
  const source = (credits: CreditWindow) =>
    new Observable<Frame>((subscriber) => {
      windows.push(credits);
      (async () => {
        for (let index = 0; index < 6; index++) {
          await credits.whenOpen();
          credits.sent(index);
          const frame = { index, ptsSeconds: index, width: 1, height: 1, data: new Uint8Array(3) };
          subscriber.next(frame);
        }
        subscriber.complete();
      })();
    });
  const stream = pulledStream(source, (frames) => frames, (frame) => frame.index, 2);
  assert.deepEqual((await lastValueFrom(stream.pipe(toArray()))).map((f) => f.index), [
    0,
    1,
    2,
    3,
    4,
    5,
  ]);
  await lastValueFrom(stream);
  assert.equal(windows.length, 2);
  assert.notEqual(windows[0], windows[1]);
  assert.equal(windows[0].acknowledged, 6);
});

Deno.test("latency percentiles use nearest rank over recorded samples", () => {
  assert.equal(percentile([], 0.5), undefined);
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
  const stats = new StreamStats();
  for (let ms = 1; ms <= 100; ms++) stats.recordLatency(ms);
  const summary = stats.summary();
  assert.deepEqual(
    [summary.framesOutput, summary.latencyP50Ms, summary.latencyP95Ms, summary.latencyMaxMs],
    [100, 50, 95, 100],
  );
});

Deno.test("the latency reservoir stays bounded on long runs", () => {
  const stats = new StreamStats();
  for (let i = 0; i < 50_000; i++) stats.recordLatency(i % 100);
  const summary = stats.summary();
  assert.equal(summary.framesOutput, 50_000);
  assert.equal(summary.latencyMaxMs, 99);
  assert.ok(Math.abs(summary.latencyP50Ms! - 50) <= 3, `p50 ${summary.latencyP50Ms}`);
});
