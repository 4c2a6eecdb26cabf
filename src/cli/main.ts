// flam CLI entry. Commands: info (the WebGPU adapter, its limits and the kernel designs chosen for it).
import { nodeRuntime } from '../gpu/node.ts';
import { tuneMatmul } from '../ops/matmul.ts';

const USAGE = `usage: flam <command> [options]

commands:
  info [--json]     show the WebGPU adapter, its limits, and the matmul design measured fastest on it
  help              this text
`;

async function info(json: boolean): Promise<void> {
  const rt = await nodeRuntime();
  const times = await tuneMatmul(rt);
  const l = rt.limits;
  const out = {
    adapter: rt.adapter,
    features: [...rt.features].sort(),
    limits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize, maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension, maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize },
    matmul: { chosen: rt.choices.matmul, rbBlock: rt.choices.rbBlock, ms_1024x256x256: times },
  };
  if (json) { console.log(JSON.stringify(out, null, 2)); return; }
  console.log(`adapter   ${out.adapter.description || out.adapter.device} (vendor ${out.adapter.vendor}, ${out.adapter.architecture}${out.adapter.isCPU ? ', CPU implementation' : ''})`);
  console.log(`features  ${out.features.join(', ')}`);
  console.log(`limits    storage binding ${(out.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, buffer ${(out.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, ${out.limits.maxComputeWorkgroupsPerDimension} workgroups per dimension`);
  console.log(`matmul    ${out.matmul.chosen}${out.matmul.chosen === 'rb' ? ` (block ${out.matmul.rbBlock})` : ''}; ms at 1024x256x256: ${Object.entries(times).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
}

const [cmd, ...rest] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'info': await info(rest.includes('--json')); break;
    case undefined: case 'help': case '--help': case '-h': console.log(USAGE); break;
    default: console.error(`flam: unknown command '${cmd}'\n\n${USAGE}`); process.exit(2);
  }
  process.exit(0);
} catch (e) {
  console.error(`flam ${cmd}: ${(e as Error).message}`);
  process.exit(1);
}
