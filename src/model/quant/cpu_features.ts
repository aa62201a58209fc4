/**
 * What the CPU's integer dot products can hold, which decides the int8 weight range.
 * @module
 */
import type { WeightLevels } from "./affine.ts";

/**
 * 127 where u8 x s8 products accumulate exactly (VNNI, and non-x86 CPUs), 63 on x86 without
 * VNNI (or where that cannot be read), where pairs of products are summed into saturating
 * 16-bit lanes (7-bit weights keep the sum in range).
 */
export function weightLevelsForThisCpu(cpuinfo = readCpuinfo()): WeightLevels {
  if (Deno.build.arch !== "x86_64") return 127;
  if (cpuinfo === undefined) return 63; // cannot tell: stay safe
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1].split(/\s+/) ?? [];
  return flags.includes("avx512_vnni") || flags.includes("avx_vnni") ? 127 : 63;
}

function readCpuinfo(): string | undefined {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return undefined;
  }
}
