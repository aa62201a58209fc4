/**
 * `deno task eval --pred <masks-dir|masks.jsonl> --gt <masks-dir> [--json out.json]`: scores
 * predicted masks against ground truth (DAVIS J, F, J&F, identity switches), prints a table and
 * optionally writes the full report as JSON. Exit codes: 0 done, 1 bad input, 2 bad usage.
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { evaluateMasks } from "../eval/evaluate.ts";
import { formatReportTable } from "../eval/report.ts";

const USAGE =
  `Usage: deno task eval --pred <masks-dir | masks.jsonl> --gt <masks-dir> [--json report.json]

Scores predicted masks against ground-truth label maps, matching objects by id.
  --pred PATH   predictions: a --masks-dir directory (NNNNNN.png label maps) or a --masks-json file
  --gt DIR      ground truth: a directory of NNNNNN.png label maps (0 = background, id otherwise)
  --json FILE   also write the full report (per object and per frame) as JSON
  --bound-th X  boundary tolerance: fraction of the image diagonal (< 1) or pixels (>= 1); default 0.008
  --help        show this help

Prints per-object and mean J (region IoU), F (DAVIS boundary F-measure), J&F, identity switches
and frames drawn while the object is absent from the ground truth.`;

const argsSchema = z.object({
  pred: z.string({ error: "--pred is required (a masks directory or a masks JSONL file)" }).min(1),
  gt: z.string({ error: "--gt is required (a directory of label-map PNGs)" }).min(1),
  json: z.string().min(1, "--json needs a file path").optional(),
  "bound-th": z.string().optional().transform((value, context) => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) {
      context.addIssue({
        code: "custom",
        message: `--bound-th must be a positive number, got "${value}"`,
      });
      return z.NEVER;
    }
    return number;
  }),
});

async function main(argv: string[]): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        pred: { type: "string" },
        gt: { type: "string" },
        json: { type: "string" },
        "bound-th": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // node:util explains some errors over several lines; the first one says what is wrong.
    console.error(`eval: ${(error as Error).message.split("\n")[0]} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`eval: ${parsed.error.issues[0].message}`);
    return 2;
  }
  const args = parsed.data;
  try {
    const report = await evaluateMasks(args.pred, args.gt, args["bound-th"]);
    if (args.json !== undefined) {
      await Deno.writeTextFile(args.json, JSON.stringify(report, null, 2) + "\n").catch((error) => {
        throw new Error(`cannot write ${args.json}: ${(error as Error).message}`);
      });
    }
    console.log(formatReportTable(report));
    return 0;
  } catch (error) {
    console.error(`eval: ${(error as Error).message.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
