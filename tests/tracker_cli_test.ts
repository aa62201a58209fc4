/**
 * `deno task segment` tracks prompted objects by default, with the real TinySAM model (the
 * random-weight fixture checkpoint: the masks are meaningless, the wiring is what is checked).
 */
import assert from "node:assert/strict";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { countDecodableFrames, REPO_DIR, runSegmentCli } from "./helpers/video.ts";

Deno.test({
  name: "segment with a prompts file runs the tracker on the real model and writes every output",
  ignore: !sharedAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tracker_cli_" });
    const result = await runSegmentCli([
      "--input",
      `${REPO_DIR}/samples/occlusion/video.mp4`,
      "--prompts",
      `${REPO_DIR}/samples/occlusion/prompts.json`,
      "--checkpoint",
      `${FIXTURE_DIR}/tinysam_random.pth`,
      "--precision",
      "fp32",
      "--output",
      `${dir}/out.mp4`,
      "--masks-json",
      `${dir}/masks.jsonl`,
      "--max-frames",
      "3",
      "--quiet",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await countDecodableFrames(`${dir}/out.mp4`), 3);
    const lines = (await Deno.readTextFile(`${dir}/masks.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => l.frame), [0, 1, 2]);
    for (const line of lines) {
      for (const object of line.objects) {
        assert.ok([1, 2, 3].includes(object.id), `id ${object.id}`);
      }
    }
    assert.ok(lines[0].objects.length > 0, "the prompted objects are segmented on their frame");
    await Deno.remove(dir, { recursive: true });
  },
});
