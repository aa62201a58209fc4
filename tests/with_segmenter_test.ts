import assert from "node:assert/strict";
import { map, Subject } from "rxjs";
import { withSegmenter } from "../src/segment/with_segmenter.ts";
import type { Segmenter } from "../src/segment/segmenter.ts";
import { RegionGrowingSegmenter } from "./helpers/region_growing_segmenter.ts";

/** A model that opens when `open()` is called, and records its disposal. */
function pendingModel() {
  let resolve!: (segmenter: Segmenter) => void;
  const opening = new Promise<Segmenter>((r) => resolve = r);
  const state = { disposed: false };
  const segmenter = new RegionGrowingSegmenter();
  const dispose = segmenter.dispose.bind(segmenter);
  segmenter.dispose = () => {
    state.disposed = true;
    return dispose();
  };
  return { opening, open: () => resolve(segmenter), state };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("without `meanwhile` the input waits for the model", async () => {
  const model = pendingModel();
  const input = new Subject<number>();
  const out: string[] = [];
  withSegmenter(() => model.opening, () => map((n: number) => `model ${n}`))(input)
    .subscribe((item) => out.push(item));
  input.next(1); // nobody listens yet: lost, as for a cold source subscribed late
  model.open();
  await flush();
  input.next(2);
  assert.deepEqual(out, ["model 2"]);
});

Deno.test("with `meanwhile` items flow at once and the stage takes over when the model opens", async () => {
  const model = pendingModel();
  const input = new Subject<number>();
  const out: string[] = [];
  let before: number | undefined;
  let completed = false;
  withSegmenter(() => model.opening, () => map((n: number) => `model ${n}`), {
    meanwhile: (n: number) => `plain ${n}`,
    onOpen: (count) => before = count,
  })(input).subscribe({ next: (item) => out.push(item), complete: () => completed = true });
  input.next(1);
  input.next(2);
  assert.deepEqual(out, ["plain 1", "plain 2"]);
  assert.equal(before, undefined);
  model.open();
  await flush();
  assert.equal(before, 2);
  input.next(3);
  input.complete();
  assert.deepEqual(out, ["plain 1", "plain 2", "model 3"]);
  assert.equal(completed, true);
  assert.equal(model.state.disposed, true);
});

Deno.test("with `meanwhile` an input that ends before the model opens completes, and the model is released", async () => {
  const model = pendingModel();
  const input = new Subject<number>();
  const out: string[] = [];
  let completed = false;
  withSegmenter(() => model.opening, () => map((n: number) => `model ${n}`), {
    meanwhile: (n: number) => `plain ${n}`,
  })(input).subscribe({ next: (item) => out.push(item), complete: () => completed = true });
  input.next(1);
  input.complete();
  assert.deepEqual(out, ["plain 1"]);
  assert.equal(completed, true);
  model.open();
  await flush();
  assert.equal(model.state.disposed, true);
});

Deno.test("with `meanwhile` a model that fails to open fails the stream", async () => {
  const input = new Subject<number>();
  let failure: unknown;
  withSegmenter(() => Promise.reject(new Error("no model")), () => map((n: number) => n), {
    meanwhile: (n: number) => -n,
  })(input).subscribe({ error: (error) => failure = error });
  input.next(1);
  await flush();
  assert.equal((failure as Error).message, "no model");
  assert.equal(input.observed, false);
});
