import assert from "node:assert/strict";
import { parseCheckpoint } from "../src/model/checkpoint/read_checkpoint.ts";
import { validateStateDict } from "../src/model/checkpoint/validate.ts";
import { assertRefused } from "./helpers/checkpoint_assert.ts";
import { stateDict, tensor, torchSaveZip } from "./helpers/torch_save.ts";

const checkpoint = parseCheckpoint(
  torchSaveZip(stateDict([
    ["image_encoder.neck.0.weight", tensor("float32", [4, 3, 1, 1], new Array(12).fill(1))],
    ["image_encoder.head.weight", tensor("float32", [2], [1, 2])],
    ["mask_decoder.iou_token.weight", tensor("float16", [1, 4], [1, 2, 3, 4])],
    ["bn.num_batches_tracked", tensor("int64", [], [0n])],
  ])),
  "small.pth",
);

Deno.test("a state dict with every expected key and shape passes; extra keys are allowed", () => {
  validateStateDict(
    checkpoint,
    new Map([
      ["image_encoder.neck.0.weight", [4, 3, 1, 1]],
      ["mask_decoder.iou_token.weight", [1, 4]],
      ["bn.num_batches_tracked", []],
    ]),
    "small.pth",
  );
});

Deno.test("a missing key is refused naming the first missing one and its expected shape", () => {
  assertRefused(
    () =>
      validateStateDict(
        checkpoint,
        new Map([
          ["image_encoder.neck.0.weight", [4, 3, 1, 1]],
          ["image_encoder.neck.1.weight", [4]],
          ["prompt_encoder.not_a_point_embed.weight", [1, 4]],
        ]),
        "small.pth",
      ),
    "small.pth",
    /^small\.pth: missing tensor 'image_encoder\.neck\.1\.weight' \(expected shape \[4\]\)/,
  );
});

Deno.test("a wrong shape is refused naming the tensor, the shape found and the shape expected", () => {
  const message = assertRefused(
    () =>
      validateStateDict(
        checkpoint,
        new Map([
          ["image_encoder.neck.0.weight", [4, 3, 1, 1]],
          ["mask_decoder.iou_token.weight", [1, 256]],
          ["bn.num_batches_tracked", [1]],
        ]),
        "small.pth",
      ),
    "small.pth",
    /tensor 'mask_decoder\.iou_token\.weight' has shape \[1, 4\], expected \[1, 256\]$/,
  );
  assert.ok(!message.includes("num_batches_tracked"), "only the first mismatch is reported");
  assertRefused(
    () => validateStateDict(checkpoint, new Map([["bn.num_batches_tracked", [1]]]), "small.pth"),
    "small.pth",
    /has shape \[\], expected \[1\]/,
  );
});

Deno.test("validation errors name 'checkpoint' when no source name is given", () => {
  assertRefused(
    () => validateStateDict(checkpoint, new Map([["nope", [1]]])),
    "checkpoint",
    /missing tensor 'nope'/,
  );
});
