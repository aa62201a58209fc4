/**
 * `deno task model:fetch [NAME]`: download a registry checkpoint (unless cached) and build its
 * graphs (unless current).
 * @module
 */
import { z } from "zod";
import { DEFAULT_MODEL, MODEL_REGISTRY } from "../../models/registry.ts";
import { ensureModel, MIRROR_ENV } from "../model/model_cache.ts";
import { PRECISIONS } from "../model/precision.ts";
import { terminalProgress } from "../model/terminal_progress.ts";
import {
  type ModelCommand,
  ModelUsageError,
  parseCommandLine,
  precisionOption,
} from "./model_command.ts";
import { printModelList } from "./model_list.ts";
import { formatReadyModel } from "./model_ready.ts";

const FLAGS = {
  help: { type: "boolean", short: "h" },
  list: { type: "boolean" },
  precision: { type: "string" },
  calibration: { type: "string" },
} as const;

const optionsSchema = z.object({
  help: z.boolean().default(false),
  list: z.boolean().default(false),
  precision: precisionOption,
  calibration: z.string().min(1, "needs a video, an image or a directory").optional(),
});

const HELP = `Usage: deno task model:fetch [NAME] [--precision P] [--calibration SRC]
       deno task model:fetch --list

Downloads a known checkpoint into the model cache (unless it is there already) and builds its
ONNX graphs (unless they are current). NAME defaults to ${DEFAULT_MODEL}; known names:
${
  MODEL_REGISTRY.map((model) =>
    `  ${model.name.padEnd(14)}COCO AP ${model.cocoAp.toFixed(1)}  ${model.url}`
  ).join("\n")
}

  --precision P  graphs to build: ${PRECISIONS.join(", ")} (default fp32)
  --calibration SRC  int8 only: calibrate on frames of SRC, a video, an image or a directory
                     of them (default: the sample clips in samples/; real footage like yours
                     calibrates better)
  --list         show the known models and what the cache holds
  --help         show this help

Environment:
  ${MIRROR_ENV}=URL  download <URL>/<file name> instead of the official URL
  TINYSAM_CACHE_DIR=DIR   cache directory (default: models/cache in this repository)

Offline? Download the checkpoint elsewhere, then: deno task model:build --checkpoint FILE
`;

/** The `fetch` subcommand. */
export const fetchCommand: ModelCommand = {
  summary: `download a known checkpoint (default ${DEFAULT_MODEL}) and build its graphs`,
  help: HELP,
  async run(argv) {
    const { options, positionals } = parseCommandLine(argv, FLAGS, optionsSchema);
    if (options.help) {
      console.log(HELP.trimEnd());
      return 0;
    }
    if (options.list) {
      await printModelList();
      return 0;
    }
    if (positionals.length > 1) {
      throw new ModelUsageError(
        `expected at most one model name, got ${positionals.length}: ${positionals.join(" ")}`,
      );
    }
    const name = positionals[0] ?? DEFAULT_MODEL;
    const model = await ensureModel({ model: name }, {
      precision: options.precision,
      calibration: options.calibration,
      ...terminalProgress(),
    });
    console.log(formatReadyModel(model));
    return 0;
  },
};
