import assert from "node:assert/strict";
import {
  parseBoxFlag,
  parsePointFlag,
  parsePromptsJson,
  PromptError,
  promptFrameIndex,
  readPromptsFile,
  resolvePrompts,
} from "../src/segment/prompts.ts";

const BOUNDS = { width: 320, height: 240, fps: 25, frameCount: 100, durationSeconds: 4 };

const EXAMPLE = {
  objects: [
    {
      id: 1,
      label: "red disc",
      prompts: [
        { frame: 0, points: [[120, 80]], negativePoints: [[10, 10]], box: [100, 60, 140, 100] },
        { time: 1.5, points: [[130, 90]] },
      ],
    },
    { id: 7, prompts: [{ box: [0, 0, 320, 240] }] },
  ],
};

function rejectsWith(action: () => unknown, pattern: RegExp): void {
  assert.throws(action, (error: Error) => {
    assert.ok(error instanceof PromptError, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.ok(!error.message.includes("\n"), error.message);
    return true;
  });
}

Deno.test("the schema example parses into typed prompts per object and frame", () => {
  const prompts = parsePromptsJson(JSON.stringify(EXAMPLE), "p.json");
  assert.equal(prompts.length, 3);
  assert.deepEqual(prompts[0], {
    objectId: 1,
    label: "red disc",
    at: { frame: 0 },
    points: [{ x: 120, y: 80, positive: true }, { x: 10, y: 10, positive: false }],
    box: [100, 60, 140, 100],
    origin: "p.json: object 1 (objects[0]) prompts[0]",
  });
  assert.deepEqual(prompts[1].at, { timeSeconds: 1.5 });
  assert.equal(promptFrameIndex(prompts[1], 25), 38);
  assert.deepEqual(prompts[2].at, { frame: 0 }, "no frame and no time means frame 0");
});

Deno.test("malformed prompt JSON is one line naming the file", () => {
  rejectsWith(() => parsePromptsJson('{"objects": [', "p.json"), /^p\.json: not valid JSON/);
});

const schemaErrors: [string, unknown, RegExp][] = [
  ["a missing objects list", {}, /p\.json: objects: /],
  [
    "an id of 0",
    { objects: [{ id: 0, prompts: [{ points: [[1, 1]] }] }] },
    /object 0 \(objects\[0\]\) id: /,
  ],
  [
    "an id above 65535",
    { objects: [{ id: 70000, prompts: [{ points: [[1, 1]] }] }] },
    /object 70000 \(objects\[0\]\) id: /,
  ],
  [
    "a duplicate id",
    {
      objects: [{ id: 2, prompts: [{ points: [[1, 1]] }] }, {
        id: 2,
        prompts: [{ points: [[2, 2]] }],
      }],
    },
    /object 2 \(objects\[1\]\): id 2 is already used by objects\[0\]/,
  ],
  [
    "a misspelt field",
    { objects: [{ id: 3, prompts: [{ pionts: [[1, 1]] }] }] },
    /object 3 \(objects\[0\]\) prompts\[0\]: unknown field "pionts"/,
  ],
  [
    "a point with three numbers",
    { objects: [{ id: 3, prompts: [{ points: [[1, 1, 1]] }] }] },
    /object 3 \(objects\[0\]\) prompts\[0\]\.points\[0\]/,
  ],
  [
    "a non-numeric coordinate",
    { objects: [{ id: 4, prompts: [{ box: [1, 2, "x", 4] }] }] },
    /object 4 \(objects\[0\]\) prompts\[0\]\.box\[2\]/,
  ],
  [
    "both frame and time",
    { objects: [{ id: 5, prompts: [{ frame: 1, time: 1, points: [[1, 1]] }] }] },
    /object 5 \(objects\[0\]\) prompts\[0\]: give either "frame" or "time"/,
  ],
  [
    "neither points nor box",
    { objects: [{ id: 6, prompts: [{ frame: 2 }] }] },
    /object 6 \(objects\[0\]\) prompts\[0\]: needs "points" or "box"/,
  ],
  [
    "an inverted box",
    { objects: [{ id: 8, prompts: [{ box: [50, 50, 10, 60] }] }] },
    /object 8 \(objects\[0\]\) prompts\[0\]\.box: box needs x0 < x1/,
  ],
  [
    "a negative frame",
    { objects: [{ id: 9, prompts: [{ frame: -1, points: [[1, 1]] }] }] },
    /object 9 \(objects\[0\]\) prompts\[0\]\.frame/,
  ],
  [
    "an object without prompts",
    { objects: [{ id: 10, prompts: [] }] },
    /object 10 \(objects\[0\]\) prompts/,
  ],
];

for (const [what, json, pattern] of schemaErrors) {
  Deno.test(`a prompts file with ${what} is rejected naming the object and field`, () => {
    rejectsWith(() => parsePromptsJson(JSON.stringify(json), "p.json"), pattern);
  });
}

Deno.test("an unreadable prompts file is one line", async () => {
  await assert.rejects(
    () => readPromptsFile("/nonexistent/prompts.json"),
    /prompts file \/nonexistent\/prompts\.json does not exist/,
  );
});

Deno.test("point flags take an optional id and frame or time suffix", () => {
  assert.deepEqual(parsePointFlag("120,80", true, "--point"), {
    objectId: 1,
    at: { frame: 0 },
    points: [{ x: 120, y: 80, positive: true }],
    origin: "--point 120,80",
  });
  const later = parsePointFlag("12.5,8,3@30", false, "--negative-point");
  assert.equal(later.objectId, 3);
  assert.deepEqual(later.at, { frame: 30 });
  assert.deepEqual(later.points, [{ x: 12.5, y: 8, positive: false }]);
  assert.deepEqual(parsePointFlag("1,2,4@1.5s", true, "--point").at, { timeSeconds: 1.5 });
});

Deno.test("box flags parse corners, id and time", () => {
  const box = parseBoxFlag("10,20,110,120,5@2", "--box");
  assert.deepEqual([box.objectId, box.box, box.at], [5, [10, 20, 110, 120], { frame: 2 }]);
});

for (
  const [value, pattern] of [
    ["120", /--point 120: expected X,Y/],
    ["1,2,3,4", /expected X,Y/],
    ["a,b", /expected numbers/],
    ["1,2,0", /object id must be an integer from 1 to 65535/],
    ["1,2,1.5", /object id must be an integer/],
    ["1,2@x", /"@x" is not a frame index/],
    ["1,2@3@4", /expected X,Y/],
  ] as const
) {
  Deno.test(`point flag "${value}" is rejected in one line naming the flag`, () => {
    rejectsWith(() => parsePointFlag(value, true, "--point"), pattern);
  });
}

Deno.test("box flags must have x0 < x1 and y0 < y1", () => {
  rejectsWith(() => parseBoxFlag("10,10,5,20", "--box"), /--box 10,10,5,20: box needs x0 < x1/);
});

Deno.test("prompts outside the frame are errors naming the prompt", () => {
  const fromFile = parsePromptsJson(
    JSON.stringify({ objects: [{ id: 2, prompts: [{ points: [[320, 10]] }] }] }),
    "p.json",
  );
  rejectsWith(
    () => resolvePrompts(fromFile, BOUNDS),
    /p\.json: object 2 \(objects\[0\]\) prompts\[0\]: point \(320, 10\) is outside the 320x240 frame/,
  );
  rejectsWith(
    () => resolvePrompts([parsePointFlag("5,240", false, "--negative-point")], BOUNDS),
    /--negative-point 5,240: negative point \(5, 240\) is outside the 320x240 frame/,
  );
  rejectsWith(
    () => resolvePrompts([parseBoxFlag("0,0,321,10", "--box")], BOUNDS),
    /--box 0,0,321,10: box \[0, 0, 321, 10\] is outside the 320x240 frame/,
  );
});

Deno.test("prompts after the end of the video are errors", () => {
  rejectsWith(
    () => resolvePrompts([parsePointFlag("1,1,1@100", true, "--point")], BOUNDS),
    /frame 100 is past the end of the video \(100 frames\)/,
  );
  rejectsWith(
    () => resolvePrompts([parsePointFlag("1,1,1@4.5s", true, "--point")], BOUNDS),
    /past the end of the video/,
  );
});

Deno.test("prompts of one object on one frame merge; files and flags form one sorted list", () => {
  const fromFile = parsePromptsJson(JSON.stringify(EXAMPLE), "p.json");
  const resolved = resolvePrompts([
    ...fromFile,
    parsePointFlag("200,200,7", true, "--point"),
    parsePointFlag("50,50,1@38", false, "--negative-point"),
    parseBoxFlag("1,1,20,20,3@10", "--box"),
  ], BOUNDS);
  assert.deepEqual(
    resolved.map((prompt) => [prompt.objectId, prompt.at, prompt.points.length, !!prompt.box]),
    [
      [1, { frame: 0 }, 2, true],
      [7, { frame: 0 }, 1, true],
      [3, { frame: 10 }, 0, true],
      [1, { frame: 38 }, 2, false],
    ],
  );
  assert.equal(resolved[0].label, "red disc");
});

Deno.test("two boxes for one object on one frame are an error", () => {
  rejectsWith(
    () =>
      resolvePrompts(
        [parseBoxFlag("1,1,20,20", "--box"), parseBoxFlag("30,30,60,60", "--box")],
        BOUNDS,
      ),
    /--box 30,30,60,60: object 1 already has a box on frame 0/,
  );
});
