/**
 * `deno task model:build --checkpoint FILE [--name NAME]`: build graphs from a local
 * checkpoint into the model cache.
 * @module
 */
import { z } from "zod";
import { DEFAULT_MODEL } from "../../models/registry.ts";
import { ensureModel } from "../model/model_cache.ts";
import { isValidModelName } from "../model/model_name.ts";
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
  checkpoint: { type: "string" },
  name: { type: "string" },
  precision: { type: "string" },
  calibration: { type: "string" },
} as const;

const optionsSchema = z.object({
  help: z.boolean().default(false),
  list: z.boolean().default(false),
  checkpoint: z.string().min(1, "needs a file path").optional(),
  name: z.string().refine(isValidModelName, {
    error:
      "use letters, digits, '.', '_' and '-' (at most 64 characters, starting with a letter or digit)",
  }).optional(),
  precision: precisionOption,
  calibration: z.string().min(1, "needs a video, an image or a directory").optional(),
});

const HELP = `Usage: deno task model:build --checkpoint FILE [--name NAME] [--precision P]
                              [--calibration SRC]

Builds ONNX graphs from a local TinySAM/MobileSAM checkpoint (a PyTorch state dict, .pth/.pt)
into the model cache; no network needed. The file is read and validated first; graphs are
rebuilt only when the file's SHA-256 or the builder version changes.

  --checkpoint FILE  the checkpoint to build from (required)
  --name NAME        cache entry name (default local-<first 12 hex of the file's SHA-256>).
                     A registry name (e.g. ${DEFAULT_MODEL}) imports a manually downloaded
                     official file: it is checked against the registry and copied into the
                     cache, so --model ${DEFAULT_MODEL} then works offline.
  --precision P      graphs to build: ${PRECISIONS.join(", ")} (default fp32)
  --calibration SRC  int8 only: calibrate on frames of SRC, a video, an image or a directory
                     of them (default: the sample clips in samples/; real footage like yours
                     calibrates better)
  --list             show the known models and what the cache holds
  --help             show this help
`;

/** The `build` subcommand. */
export const buildCommand: ModelCommand = {
  summary: "build graphs from a local checkpoint file into the cache",
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
    if (positionals.length > 0) {
      throw new ModelUsageError(
        `unexpected argument '${positionals[0]}'; pass the file with --checkpoint FILE`,
      );
    }
    if (!options.checkpoint) throw new ModelUsageError("--checkpoint FILE is required");
    const model = await ensureModel(
      { checkpoint: options.checkpoint, name: options.name },
      { precision: options.precision, calibration: options.calibration, ...terminalProgress() },
    );
    console.log(formatReadyModel(model));
    return 0;
  },
};
