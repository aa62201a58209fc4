/**
 * The `--help` text of `deno task segment`.
 * @module
 */
import { PROMPT_FLAG_SYNTAX } from "../segment/prompts.ts";
import { DEFAULT_PRECISION } from "./args.ts";
import { DEFAULT_LATENCY_TARGET_MS, DEFAULT_LIVE_PRESET } from "./realtime_args.ts";

/** Everything the segment command accepts, as printed by `--help`. */
export const SEGMENT_HELP =
  `Segment a video as a stream: decode with ffmpeg, segment each frame, draw the masks,
re-encode with ffmpeg, and optionally export the masks per frame.

Usage:
  deno task segment --input INPUT --output OUTPUT [prompts] [outputs] [options]

Input and output:
  -i, --input INPUT        a video file; "-" for standard input (any format ffmpeg detects:
                           nut, matroska, mpegts, y4m, ...); /dev/videoN (v4l2 capture, live);
                           a URL (rtsp://, udp://, srt://, rtmp:// are live; http(s) is not);
                           lavfi:GRAPH for an ffmpeg source filter (lavfi:testsrc2=duration=5)
  -o, --output OUTPUT      a video file, container from the extension (.mp4 .m4v .mov .mkv
                           .nut .avi .ts .mts); "-" for standard output (nut by default).
                           Video is H.264 (libx264, or the best encoder ffmpeg has); a file
                           input's audio is copied (re-encoded to AAC if the container needs it)
      --output-format FMT  container: mp4, mov, matroska, nut, avi, mpegts (for "-": nut,
                           matroska or mpegts)
      --masks-dir DIR      one label-map PNG per frame (000000.png, ...): 0 = background,
                           object id otherwise (16-bit when an id exceeds 255)
      --masks-json FILE    JSON lines, one per frame: index, time, and per object its id, score,
                           bbox and COCO RLE

Prompts (coordinates in pixels of the decoded frame, after rotation; origin top left):
      --point ${PROMPT_FLAG_SYNTAX.point}
                           a positive point for object ID (default 1) on frame FRAME
                           (default 0) or at SECONDS; repeatable
      --negative-point ${PROMPT_FLAG_SYNTAX.point}
                           a background point, same syntax; repeatable
      --box ${PROMPT_FLAG_SYNTAX.box}
                           a box with corners (X0,Y0) and (X1,Y1); one per object and frame;
                           repeatable
      --prompts FILE       a JSON prompts file:
                           {"objects": [{"id": 1, "label": "cup", "prompts": [
                             {"frame": 0, "points": [[x, y]], "negativePoints": [[x, y]],
                              "box": [x0, y0, x1, y1]},
                             {"time": 1.5, "points": [[x, y]]}]}]}
                           each prompt has "frame" or "time" (default frame 0) and points
                           and/or a box; a later prompt for an id corrects that object
  Examples: --point 640,360   --point 200,150,2@30   --negative-point 10,10,2@30
            --box 100,80,400,500,3@1.5s
  Values starting with "-" must be attached: --point=-1,5 (they are outside the frame anyway).
  Prompts outside the frame, or after the end of the video, are an error.
  Without any prompt the command is a pass-through (no model is loaded): the video is decoded
  and re-encoded, mask exports are written with no objects.

Everything (no prompts needed):
      --everything         segment everything in one frame of INPUT (an image, or a video's
                           frame --frame N, default 0): --output is a PNG overlay (*.png),
                           --masks-json gets one line with every mask
      --everything-every K find all objects on frame 0 and every K frames of a video: masks
                           matching a tracked object refresh it, masks matching a lost one bring
                           it back under its id, the rest become new objects (up to
                           --max-objects, default 20) that are tracked in between; with no
                           prompts this segments and tracks everything
      --everything-mode M  hierarchical (TinySAM: a sparse grid first, dense points only where
                           nothing confident was found; default) or dense (SAM's full grid)
      --points-per-side N  dense grid points per side (default 32: 1024 prompts; the sparse
                           grid has N/4 per side)

Model (loaded only when there is something to segment):
      --model NAME         a known model: tinysam-42.3 (default), tinysam-41.9, mobilesam;
                           downloaded and built into models/cache/ on first use
      --checkpoint FILE    a local TinySAM/MobileSAM checkpoint (.pth/.pt) instead
      --precision P        int8 or fp32 (default ${DEFAULT_PRECISION}); int8 quantizes the image
                           encoder, calibrated on frames of --calibration (first use only)
      --calibration SRC    a video, an image or a directory of them (default: samples/)
      --threads N          threads per ONNX Runtime session (default: all cores)

Real time (tracking runs):
      --stride N|auto      run the image encoder every N-th frame only (N = 1: every frame, the
                           default for files) and carry the objects between encoder frames by
                           motion measured on small grey frames; auto (the default for live
                           inputs) encodes when motion, fit, partial visibility or a lost object
                           calls for it. Prompt and everything frames are always encoded
      --refine sync|async  sync (default for files): an encoder frame's masks wait for the
                           model; async (default for live inputs with keyframes): every frame is
                           output at once with motion-carried masks, the model's refinement is
                           folded in when ready (results then depend on timing)
      --latency-target MS  live inputs: the capture-to-output latency (95th percentile) that
                           auto keyframes are spaced out to hold (default ${DEFAULT_LATENCY_TARGET_MS})
      --encoder-workers N  image encoders in worker threads, one frame each (default: 1 for
                           live inputs and --refine async; otherwise none: the model runs in the
                           pipeline's thread, which measured fastest for files on two cores)
      --preset P           libx264 preset of the output video (default medium for files,
                           ${DEFAULT_LIVE_PRESET} for live inputs)
  The end-of-run summary (and --progress json) reports the keyframes chosen.

Run control:
      --max-frames N       stop after N frames
      --live               treat the input as live (pushed): frames that wait over 60% of
                           --latency-target while the pipeline cannot keep up are dropped (oldest
                           first) and counted; latency is reported. Frames arriving while the
                           model loads go out without masks. Devices and rtsp/udp/srt/rtmp URLs
                           are live without this flag; use it for a live stream piped to
                           standard input
      --progress MODE      tty: a progress line (frames, fps, ETA); json: one JSON object per
                           line ({"event":"progress","frames":..,"totalFrames":..,"fps":..,
                           "etaSeconds":..}); none. Default: tty when stderr is a terminal
  -q, --quiet              no progress and no summary (errors are still printed)
  -h, --help               this text

Exit codes: 0 done; 1 runtime error (bad input file, ffmpeg failure); 2 usage error;
130 interrupted (Ctrl-C). Outputs are finalized (playable) however the run ends.

Environment: FFMPEG_PATH, FFPROBE_PATH pick the ffmpeg/ffprobe binaries (otherwise PATH, then
the binaries shipped in the npm packages @ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe).

Examples:
  deno task segment --input video.mp4 --point 640,360 --output out.mp4
  deno task segment --input video.mp4 --box 100,80,400,500 --masks-dir masks/ --masks-json m.jsonl --output out.mp4
  ffmpeg -f v4l2 -i /dev/video0 -f nut - | deno task segment --input - --live --output - | ffplay -
`;
