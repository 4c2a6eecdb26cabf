// flam info: the WebGPU adapter, its limits, and the kernel designs measured fastest on it.
import { nodeRuntime } from '../../gpu/node.ts';
import { tuneMatmul } from '../../ops/matmul.ts';

export const summary = 'show the WebGPU adapter, its limits, and the matmul design measured fastest on it [--json]';

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) { console.log(`flam info [--json]\n  ${summary}`); return; }
  const json = args.includes('--json');
  const rt = await nodeRuntime();
  const times = await tuneMatmul(rt);
  const l = rt.limits;
  const out = {
    adapter: rt.adapter,
    features: [...rt.features].sort(),
    limits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension, maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize },
    matmul: { chosen: rt.choices.matmul, rbBlock: rt.choices.rbBlock, rbWorkgroup: rt.choices.rbWorkgroup, ms_1024x256x256: times },
  };
  if (json) { console.log(JSON.stringify(out, null, 2)); return; }
  console.log(`adapter   ${out.adapter.description || out.adapter.device} (vendor ${out.adapter.vendor}, ${out.adapter.architecture}${out.adapter.isCPU ? ', CPU implementation' : ''})`);
  console.log(`features  ${out.features.join(', ')}`);
  console.log(`limits    storage binding ${(out.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, buffer ${(out.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, ${out.limits.maxComputeWorkgroupsPerDimension} workgroups per dimension`);
  console.log(`matmul    ${out.matmul.chosen}${out.matmul.chosen === 'rb' ? ` (block ${out.matmul.rbBlock}, workgroup ${out.matmul.rbWorkgroup})` : ''}; ms at 1024x256x256: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
}
