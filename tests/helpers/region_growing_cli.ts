/**
 * `segment`, `batch` and `pick` as real processes with the region-growing test segmenter in place of
 * TinySAM: `deno run -A tests/helpers/region_growing_cli.ts segment|batch|pick ARGS...`.
 *
 * With env `HOLD_AT_EMBED=K` and `GATE=PATH`, the process's K-th embedding (counted from 1 over its
 * life) first prints `held K` on stdout and then waits until a file exists at `PATH`: a test can
 * act on a job known to be mid-run (kill its worker, stop it, kill its ffmpeg) and then let it go.
 * @module
 */
import { runBatch } from "../../src/cli/batch.ts";
import { runPick } from "../../src/cli/pick.ts";
import { runSegment } from "../../src/cli/segment.ts";
import type { Frame } from "../../src/frame.ts";
import type { Segmenter } from "../../src/segment/segmenter.ts";
import { type RegionEmbedding, RegionGrowingSegmenter } from "./region_growing_segmenter.ts";
import { exists } from "./video.ts";

/** How often the gate file is looked for. */
const GATE_POLL_MS = 10;

/** The region-growing segmenter, held at one embedding until the gate opens (see the module). */
class HeldSegmenter extends RegionGrowingSegmenter {
  #embeds = 0;
  readonly #holdAt: number;
  readonly #gate: string;

  constructor(holdAt: number, gate: string) {
    super();
    this.#holdAt = holdAt;
    this.#gate = gate;
  }

  override async embed(frame: Frame): Promise<RegionEmbedding> {
    if (++this.#embeds === this.#holdAt) {
      await Deno.stdout.write(new TextEncoder().encode(`held ${this.#holdAt}\n`));
      while (!exists(this.#gate)) await new Promise((r) => setTimeout(r, GATE_POLL_MS));
    }
    return await super.embed(frame);
  }
}

const holdAt = Number(Deno.env.get("HOLD_AT_EMBED") ?? "0");
const gate = Deno.env.get("GATE") ?? "";
// One segmenter for the process: a gate counts the embeddings of every job a worker runs.
let shared: Segmenter | undefined;
const openModel = () =>
  Promise.resolve(
    holdAt > 0 ? (shared ??= new HeldSegmenter(holdAt, gate)) : new RegionGrowingSegmenter(),
  );

const [command, ...args] = Deno.args;
if (command === "segment") Deno.exit(await runSegment(args, { openModel }));
else if (command === "batch") Deno.exit(await runBatch(args, { openModel }));
else if (command === "pick") Deno.exit(await runPick(args, { openModel }));
else {
  console.error("usage: region_growing_cli.ts segment|batch|pick ARGS...");
  Deno.exit(2);
}
