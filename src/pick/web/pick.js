/**
 * The click-to-segment page: frames on a canvas, prompts per object (click, shift- or right-click,
 * drag), masks decoded by the server at each change, everything passes, tracking runs and saving.
 * The prompts live here; the server holds the video, the model and the embeddings.
 *
 * For tests and measurements the page keeps a few facts on `document.body.dataset`: `frame`
 * (the frame drawn), `maskVersion` (counts mask drawings), `latencyMs` (last click to drawn mask),
 * `trackState`, `cancelRequested` (the server has taken a Cancel) and `error` (the last failure's
 * message).
 */

const token = new URL(import.meta.url).searchParams.get("token") ?? "";

/** @typedef {[number, number]} Point */
/** @typedef {{ points: Point[], negativePoints: Point[], box?: [number, number, number, number] }} FramePrompt */
/** @typedef {{ id: number, prompts: Map<number, FramePrompt> }} PickObject */
/** @typedef {{ size: [number, number], counts: number[] }} Rle */
/** @typedef {{ id: number, rle: Rle, score: number, area: number }} Mask */
/** @typedef {{ rle: Rle, score: number, area: number, prompt: { points: Point[], box: [number, number, number, number] } }} Found */

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const frameCanvas = /** @type {HTMLCanvasElement} */ ($("frame-canvas"));
const maskCanvas = /** @type {HTMLCanvasElement} */ ($("mask-canvas"));
const markCanvas = /** @type {HTMLCanvasElement} */ ($("mark-canvas"));
const scrubber = /** @type {HTMLInputElement} */ ($("scrubber"));

/** Pixels a pointer must travel for a drag to be a box rather than a click. */
const DRAG_PIXELS = 5;
/** Alpha of a mask's fill. */
const MASK_ALPHA = 140;

const state = {
  /** @type {{ name: string, width: number, height: number, fps: number, frameCount: number | null }} */
  video: { name: "", width: 0, height: 0, fps: 0, frameCount: null },
  frame: 0,
  /** @type {Map<number, PickObject>} */
  objects: new Map(),
  /** @type {number | undefined} */
  selected: undefined,
  nextId: 1,
  /** @type {string[]} */
  history: [],
  /** Decoded masks of each frame visited, by object id. @type {Map<number, Map<number, Mask>>} */
  masks: new Map(),
  /** The everything pass's masks on the current frame, until one is adopted or dismissed. @type {Found[] | undefined} */
  found: undefined,
  /** Counts prompt changes, so that an answer to an older change is not drawn over a newer one. */
  revision: 0,
  tracking: false,
};

// ---- the server ------------------------------------------------------------------------------

/**
 * Calls the server; resolves with the JSON answer or throws its one-line error.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { "x-pick-token": token };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error ?? response.statusText);
  return answer;
}

// ---- colours (the same as the overlay's: src/render/palette.ts) --------------------------------

const GOLDEN_ANGLE_DEGREES = 137.50776405003785;

/** @param {number} hue @param {number} s @param {number} v @returns {[number, number, number]} */
function hsvToRgb(hue, s, v) {
  const h = ((hue % 360) + 360) % 360 / 60;
  const c = v * s, x = c * (1 - Math.abs((h % 2) - 1)), m = v - c;
  const [r, g, b] = h < 1
    ? [c, x, 0]
    : h < 2
    ? [x, c, 0]
    : h < 3
    ? [0, c, x]
    : h < 4
    ? [0, x, c]
    : h < 5
    ? [x, 0, c]
    : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** @param {number} id */
function fillColor(id) {
  return hsvToRgb(id * GOLDEN_ANGLE_DEGREES, 0.75, 1);
}

/** @param {number} id */
function contourColor(id) {
  return hsvToRgb(id * GOLDEN_ANGLE_DEGREES, 1, 0.7);
}

/** @param {number[]} rgb */
function css([r, g, b]) {
  return `rgb(${r} ${g} ${b})`;
}

// ---- status ----------------------------------------------------------------------------------

/** @param {string} text */
function say(text) {
  $("status").textContent = text;
}

/** @param {unknown} error */
function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  document.body.dataset.error = message;
  say(message);
}

// ---- frames ----------------------------------------------------------------------------------

/** @param {number} index */
async function showFrame(index) {
  const last = (state.video.frameCount ?? Infinity) - 1;
  index = Math.max(0, Math.min(last, index));
  state.frame = index;
  state.found = undefined;
  scrubber.value = String(index);
  $("frame-label").textContent = `frame ${index}${
    state.video.frameCount ? ` / ${state.video.frameCount - 1}` : ""
  }`;
  drawMarks();
  const response = await fetch(`/api/frame/${index}`, { headers: { "x-pick-token": token } });
  if (!response.ok) throw new Error((await response.json()).error);
  const rgb = new Uint8Array(await response.arrayBuffer());
  if (state.frame !== index) return; // the user has moved on
  const { width, height } = state.video;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba[j] = rgb[i];
    rgba[j + 1] = rgb[i + 1];
    rgba[j + 2] = rgb[i + 2];
    rgba[j + 3] = 255;
  }
  context(frameCanvas).putImageData(new ImageData(rgba, width, height), 0, 0);
  document.body.dataset.frame = String(index);
  if (promptsOn(index).length > 0 && !state.masks.has(index)) await decodeFrame(index);
  else drawMasks();
}

/** @param {HTMLCanvasElement} canvas */
function context(canvas) {
  return /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", {
    willReadFrequently: true,
  }));
}

// ---- prompts and masks -----------------------------------------------------------------------

/** The objects prompted on frame `index`, as the decode request takes them. @param {number} index */
function promptsOn(index) {
  return [...state.objects.values()].flatMap((object) => {
    const prompt = object.prompts.get(index);
    return prompt ? [{ id: object.id, ...prompt }] : [];
  });
}

/**
 * Decodes the prompts of frame `index` and draws their masks.
 * @param {number} index
 * @param {number} [clickedAt] when the change began (`performance.now()`), to report the latency
 */
async function decodeFrame(index, clickedAt) {
  const revision = ++state.revision;
  const objects = promptsOn(index);
  say(objects.length > 0 ? "decoding…" : "");
  const answer = objects.length > 0
    ? await call("POST", "/api/decode", { frame: index, objects })
    : { masks: [], timing: { embedMs: 0, decodeMs: 0 } };
  if (revision !== state.revision) return;
  state.masks.set(index, new Map(answer.masks.map((/** @type {Mask} */ mask) => [mask.id, mask])));
  if (state.frame !== index) return;
  drawMasks();
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const { embedMs, decodeMs } = answer.timing;
  if (clickedAt !== undefined) {
    const latency = performance.now() - clickedAt;
    document.body.dataset.latencyMs = latency.toFixed(1);
    say(
      `mask in ${latency.toFixed(0)} ms (embedding ${embedMs.toFixed(0)} ms, decoder ${
        decodeMs.toFixed(0)
      } ms)`,
    );
  } else if (objects.length > 0) say("");
}

/** Draws the current frame's masks (or the everything pass's) and the prompts. */
function drawMasks() {
  const { width, height } = state.video;
  const image = new ImageData(width, height);
  if (state.found) {
    state.found.forEach((found, i) => {
      const hue = i * GOLDEN_ANGLE_DEGREES;
      paintRle(image, found.rle, hsvToRgb(hue, 0.6, 1), hsvToRgb(hue, 1, 0.7), 110);
    });
  } else {
    for (const mask of state.masks.get(state.frame)?.values() ?? []) {
      if (!state.objects.has(mask.id)) continue;
      paintRle(image, mask.rle, fillColor(mask.id), contourColor(mask.id), MASK_ALPHA);
    }
  }
  context(maskCanvas).putImageData(image, 0, 0);
  drawMarks();
  document.body.dataset.maskVersion = String(Number(document.body.dataset.maskVersion ?? 0) + 1);
}

/**
 * Paints a column-major run-length mask (COCO: runs of 0s and 1s alternate, 0s first) into
 * `image`: its pixels in `fill` at `alpha`, its border pixels (a 4-neighbour outside) in
 * `contour`, opaque.
 * @param {ImageData} image @param {Rle} rle @param {number[]} fill @param {number[]} contour
 * @param {number} alpha
 */
function paintRle(image, rle, fill, contour, alpha) {
  const [height, width] = rle.size;
  const inside = new Uint8Array(width * height);
  let position = 0;
  rle.counts.forEach((run, i) => {
    if (i % 2 === 1) {
      for (let p = position; p < position + run; p++) {
        const x = Math.floor(p / height);
        inside[(p - x * height) * width + x] = 1;
      }
    }
    position += run;
  });
  const data = image.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!inside[i]) continue;
      const border = x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
        !inside[i - 1] || !inside[i + 1] || !inside[i - width] || !inside[i + width];
      const [r, g, b] = border ? contour : fill;
      data[i * 4] = r;
      data[i * 4 + 1] = g;
      data[i * 4 + 2] = b;
      data[i * 4 + 3] = border ? 255 : alpha;
    }
  }
}

/** Whether pixel (x, y) is inside a run-length mask. @param {Rle} rle @param {number} x @param {number} y */
function rleHas(rle, x, y) {
  const target = Math.floor(x) * rle.size[0] + Math.floor(y);
  let position = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    position += rle.counts[i];
    if (target < position) return i % 2 === 1;
  }
  return false;
}

/** Draws the current frame's prompts, and a box being dragged. @param {number[]} [dragBox] */
function drawMarks(dragBox) {
  const ctx = context(markCanvas);
  ctx.clearRect(0, 0, markCanvas.width, markCanvas.height);
  const scale = Math.max(1, state.video.width / 640);
  for (const object of state.objects.values()) {
    const prompt = object.prompts.get(state.frame);
    if (!prompt) continue;
    ctx.lineWidth = 2 * scale;
    if (prompt.box) {
      ctx.strokeStyle = css(contourColor(object.id));
      const [x0, y0, x1, y1] = prompt.box;
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    }
    for (
      const [points, colour]
        of /** @type {const} */ ([[prompt.points, "#1c1"], [prompt.negativePoints, "#e22"]])
    ) {
      for (const [x, y] of points) {
        ctx.beginPath();
        ctx.arc(x, y, 5 * scale, 0, 2 * Math.PI);
        ctx.fillStyle = colour;
        ctx.fill();
        ctx.strokeStyle = "white";
        ctx.stroke();
      }
    }
  }
  if (dragBox) {
    ctx.setLineDash([6 * scale, 4 * scale]);
    ctx.strokeStyle = state.selected ? css(contourColor(state.selected)) : "white";
    ctx.lineWidth = 2 * scale;
    ctx.strokeRect(dragBox[0], dragBox[1], dragBox[2] - dragBox[0], dragBox[3] - dragBox[1]);
    ctx.setLineDash([]);
  }
}

/** Keeps the state before a change, for Undo. */
function remember() {
  state.history.push(JSON.stringify({
    selected: state.selected,
    nextId: state.nextId,
    objects: [...state.objects.values()].map((o) => [o.id, [...o.prompts]]),
  }));
}

function newObject() {
  const id = state.nextId++;
  state.objects.set(id, { id, prompts: new Map() });
  state.selected = id;
  renderObjects();
  return id;
}

/**
 * Adds to the selected object's prompt on the current frame (a new object if none is selected)
 * and decodes the frame.
 * @param {(prompt: FramePrompt) => void} change
 * @param {number} clickedAt
 */
async function changePrompt(change, clickedAt) {
  if (state.tracking) return say("tracking: prompts wait until it ends");
  remember();
  const id = state.selected !== undefined && state.objects.has(state.selected)
    ? state.selected
    : newObject();
  const object = /** @type {PickObject} */ (state.objects.get(id));
  const prompt = object.prompts.get(state.frame) ?? { points: [], negativePoints: [] };
  change(prompt);
  if (prompt.points.length === 0 && !prompt.box) {
    state.history.pop();
    say("a negative point needs a positive point or a box on the same frame first");
    return;
  }
  object.prompts.set(state.frame, prompt);
  renderObjects();
  drawMarks();
  await decodeFrame(state.frame, clickedAt);
}

async function undo() {
  const last = state.history.pop();
  if (!last) return say("nothing to undo");
  const saved = JSON.parse(last);
  state.selected = saved.selected;
  state.nextId = saved.nextId;
  state.objects = new Map(
    saved.objects.map((
      /** @type {[number, [number, FramePrompt][]]} */ [id, prompts],
    ) => [id, { id, prompts: new Map(prompts) }]),
  );
  state.masks.clear();
  renderObjects();
  await decodeFrame(state.frame);
}

async function clearObject() {
  if (state.selected === undefined || !state.objects.has(state.selected)) {
    return say("select an object first");
  }
  remember();
  state.objects.delete(state.selected);
  state.selected = undefined;
  for (const masks of state.masks.values()) masks.clear();
  renderObjects();
  await decodeFrame(state.frame);
}

function renderObjects() {
  const list = $("objects");
  list.replaceChildren(...[...state.objects.values()].map((object) => {
    const item = document.createElement("li");
    item.dataset.id = String(object.id);
    item.className = object.id === state.selected ? "selected" : "";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = `rgb(${fillColor(object.id).join(" ")})`;
    const name = document.createElement("span");
    name.textContent = `object ${object.id}`;
    const frames = document.createElement("span");
    frames.className = "frames";
    const prompted = [...object.prompts.keys()].sort((a, b) => a - b);
    frames.textContent = prompted.length ? `frames ${prompted.join(", ")}` : "no prompt yet";
    item.append(swatch, name, frames);
    item.addEventListener("click", () => {
      state.selected = object.id;
      renderObjects();
    });
    return item;
  }));
}

// ---- everything ------------------------------------------------------------------------------

async function everything() {
  if (state.tracking) return say("tracking: the model is busy");
  say("finding every object…");
  const index = state.frame;
  const answer = await call("POST", "/api/everything", { frame: index });
  if (state.frame !== index) return;
  state.found = answer.found;
  drawMasks();
  say(`${answer.found.length} masks found: click one to adopt it as an object (Esc: dismiss)`);
}

/**
 * Adopts the smallest found mask under (x, y) as a new object; false if there is none.
 * @param {number} x @param {number} y @param {number} clickedAt when the click began
 */
async function adopt(x, y, clickedAt) {
  const hits = (state.found ?? []).filter((found) => rleHas(found.rle, x, y));
  if (hits.length === 0) return false;
  const found = hits.reduce((a, b) => (b.area < a.area ? b : a));
  state.found = undefined;
  remember();
  const id = newObject();
  const object = /** @type {PickObject} */ (state.objects.get(id));
  object.prompts.set(state.frame, {
    points: found.prompt.points.map(([px, py]) => [px, py]),
    negativePoints: [],
    box: found.prompt.box,
  });
  renderObjects();
  await decodeFrame(state.frame, clickedAt);
  return true;
}

// ---- prompts document, save and track --------------------------------------------------------

/** The prompts as `segment --prompts` takes them. */
function promptsDocument() {
  const objects = [...state.objects.values()]
    .filter((object) => object.prompts.size > 0)
    .sort((a, b) => a.id - b.id)
    .map((object) => ({
      id: object.id,
      prompts: [...object.prompts].sort(([a], [b]) => a - b).map(([frame, prompt]) => ({
        frame,
        ...(prompt.points.length ? { points: prompt.points } : {}),
        ...(prompt.negativePoints.length ? { negativePoints: prompt.negativePoints } : {}),
        ...(prompt.box ? { box: prompt.box } : {}),
      })),
    }));
  if (objects.length === 0) throw new Error("no object has a prompt yet: click on the frame first");
  return { objects };
}

function trackOptions() {
  const stride = $("stride").value;
  const every = Number($("everything-every").value);
  return {
    stride: stride === "auto" ? "auto" : Number(stride),
    ...(every > 0 ? { everythingEvery: every } : {}),
  };
}

/** @param {string} arg */
function shellQuote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

async function save() {
  const answer = await call("POST", "/api/save", {
    prompts: promptsDocument(),
    options: trackOptions(),
  });
  const command = $("command");
  command.hidden = false;
  command.textContent = ["deno task segment", ...answer.command.map(shellQuote)].join(" ");
  say(
    `saved ${answer.prompts}${
      answer.tracked.length ? `; tracked outputs: ${answer.tracked.join(", ")}` : ""
    }`,
  );
}

async function track() {
  const started = await call("POST", "/api/track", {
    prompts: promptsDocument(),
    options: trackOptions(),
  });
  setTracking(true);
  const progress = $("track-progress");
  progress.hidden = false;
  $("result").hidden = true;
  let run = started;
  while (run.state === "running") {
    showProgress(run);
    await new Promise((resolve) => setTimeout(resolve, 250));
    run = await call("GET", "/api/track");
  }
  setTracking(false);
  showProgress(run);
  document.body.dataset.trackState = run.state;
  if (run.state === "done") {
    const video = $("result-video");
    video.src = `/api/track/overlay.mp4?token=${token}&run=${run.run}`;
    $("result").hidden = false;
    $("command").hidden = false;
    $("command").textContent = ["deno task segment", ...run.command.map(shellQuote)].join(" ");
  }
}

/** @param {boolean} on */
function setTracking(on) {
  state.tracking = on;
  document.body.dataset.trackState = on ? "running" : document.body.dataset.trackState ?? "";
  $("track").disabled = on;
  $("everything").disabled = on;
  $("cancel").disabled = !on;
}

/** @param {{ state: string, frames: number, totalFrames: number | null, fps: number, etaSeconds: number | null, error?: string }} run */
function showProgress(run) {
  const progress = $("track-progress");
  progress.max = run.totalFrames ?? Math.max(1, run.frames);
  progress.value = run.state === "done" ? progress.max : run.frames;
  const parts = [
    `${run.state}: ${run.frames}${run.totalFrames ? ` / ${run.totalFrames}` : ""} frames`,
    `${run.fps.toFixed(1)} fps`,
    ...(run.state === "running" && run.etaSeconds !== null
      ? [`ETA ${Math.ceil(run.etaSeconds)} s`]
      : []),
    ...(run.error ? [run.error] : []),
  ];
  $("track-status").textContent = parts.join(" · ");
}

// ---- input -----------------------------------------------------------------------------------

/** Frame pixel under a pointer event. @param {PointerEvent} event @returns {Point} */
function framePoint(event) {
  const rect = markCanvas.getBoundingClientRect();
  const x = (event.clientX - rect.left) * state.video.width / rect.width;
  const y = (event.clientY - rect.top) * state.video.height / rect.height;
  return [
    Math.max(0, Math.min(state.video.width - 1, Math.round(x))),
    Math.max(0, Math.min(state.video.height - 1, Math.round(y))),
  ];
}

/** @type {{ start: Point, negative: boolean, pointerId: number } | undefined} */
let press;

markCanvas.addEventListener("contextmenu", (event) => event.preventDefault());
markCanvas.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.button !== 2) return;
  markCanvas.setPointerCapture(event.pointerId);
  press = {
    start: framePoint(event),
    negative: event.shiftKey || event.button === 2,
    pointerId: event.pointerId,
  };
});
markCanvas.addEventListener("pointermove", (event) => {
  if (!press || press.negative) return;
  const [x, y] = framePoint(event);
  if (dragged(press.start, [x, y])) drawMarks(boxOf(press.start, [x, y]));
});
markCanvas.addEventListener("pointerup", (event) => {
  if (!press) return;
  const { start, negative } = press;
  press = undefined;
  const end = framePoint(event);
  const clickedAt = performance.now();
  run(async () => {
    if (!negative && dragged(start, end)) {
      const box = boxOf(start, end);
      await changePrompt((prompt) => prompt.box = box, clickedAt);
    } else if (!negative && state.found) {
      if (!await adopt(end[0], end[1], clickedAt)) say("no found mask there (Esc: dismiss them)");
    } else {
      await changePrompt(
        (prompt) => (negative ? prompt.negativePoints : prompt.points).push(end),
        clickedAt,
      );
    }
  });
});

/** @param {Point} a @param {Point} b */
function dragged(a, b) {
  return Math.hypot(b[0] - a[0], b[1] - a[1]) * markCanvas.getBoundingClientRect().width /
      state.video.width > DRAG_PIXELS;
}

/** @param {Point} a @param {Point} b @returns {[number, number, number, number]} */
function boxOf(a, b) {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
}

scrubber.addEventListener("input", () => run(() => showFrame(Number(scrubber.value))));

document.addEventListener("keydown", (event) => {
  const target = /** @type {HTMLElement} */ (event.target);
  if (target.matches("input:not([type=range]), select, textarea")) return;
  const step = event.shiftKey ? 10 : 1;
  const actions = /** @type {Record<string, () => unknown>} */ ({
    ArrowLeft: () => showFrame(state.frame - step),
    ArrowRight: () => showFrame(state.frame + step),
    Home: () => showFrame(0),
    End: () => showFrame(Infinity),
    n: () => newObject(),
    z: () => undo(),
    e: () => everything(),
    Delete: () => clearObject(),
    Escape: () => {
      state.found = undefined;
      drawMasks();
      say("");
    },
  });
  const action = actions[event.key];
  if (!action || event.altKey || event.metaKey) return;
  event.preventDefault();
  run(async () => await action());
});

/** Runs an action, showing its failure. @param {() => Promise<unknown>} action */
function run(action) {
  action().catch(fail);
}

const buttons = /** @type {Record<string, () => Promise<unknown> | unknown>} */ ({
  "new-object": () => newObject(),
  undo,
  "clear-object": clearObject,
  everything,
  track,
  cancel: async () => {
    await call("POST", "/api/track/cancel");
    document.body.dataset.cancelRequested = "true";
    say("tracking cancelled: its outputs are discarded");
  },
  save,
});
for (const [id, action] of Object.entries(buttons)) {
  $(id).addEventListener("click", () => run(async () => await action()));
}

// ---- start -----------------------------------------------------------------------------------

run(async () => {
  state.video = await call("GET", "/api/video");
  const { width, height, frameCount, name } = state.video;
  for (const canvas of [frameCanvas, maskCanvas, markCanvas]) {
    canvas.width = width;
    canvas.height = height;
  }
  $("name").textContent = name;
  scrubber.max = String(Math.max(0, (frameCount ?? 1) - 1));
  document.title = `${name} · TinySAM pick`;
  await showFrame(0);
  say("click on an object");
});
