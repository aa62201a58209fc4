import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FIXTURE_DIR, sharedAvailable } from "./helpers/shared.ts";
import { PyDict, PyGlobal, PyReduce, PyTuple } from "./helpers/pickle_writer.ts";
import { torchSaveZip } from "./helpers/torch_save.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = "src/model/checkpoint/describe_checkpoint.ts";

async function describe(path: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", SCRIPT, path],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("a bad checkpoint given to a command is one line on stderr and exit code 1, no stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const evil = torchSaveZip(
      new PyDict([["w", new PyReduce(new PyGlobal("os", "system"), new PyTuple(["id"]))]]),
    );
    await Deno.writeFile(`${dir}/evil.pth`, evil);
    await Deno.writeFile(`${dir}/random.pth`, new Uint8Array(1000).fill(7));
    await Deno.writeFile(`${dir}/cut.pth`, evil.subarray(0, 100));
    const cases: [string, RegExp][] = [
      [`${dir}/evil.pth`, /refused global 'os\.system'/],
      [`${dir}/random.pth`, /not a PyTorch checkpoint/],
      [`${dir}/cut.pth`, /truncated or corrupt zip archive/],
      [`${dir}/absent.pth`, /no such file/],
    ];
    for (const [path, pattern] of cases) {
      const { code, stdout, stderr } = await describe(path);
      assert.equal(code, 1, path);
      assert.equal(stdout, "");
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `stderr is not one line: ${stderr}`);
      assert.ok(lines[0].startsWith(`${path}: `), lines[0]);
      assert.match(lines[0], pattern);
      assert.doesNotMatch(stderr, /\bat \S+:\d+|Error:|Stack/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the describe command lists the fixture's 439 tensors on stdout",
  ignore: !sharedAvailable,
  fn: async () => {
    const { code, stdout, stderr } = await describe(`${FIXTURE_DIR}/tinysam_random.pth`);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split("\n");
    assert.equal(lines.length, 439);
    assert.equal(lines.at(-1)?.split(" ").length, 3);
  },
});
