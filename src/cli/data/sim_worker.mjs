// Worker-thread entry: registers tsx (TypeScript sources run directly, as src/cli/flam.mjs does) in this thread,
// then runs sim_worker.ts.
import { register } from 'tsx/esm/api';
register();
await import('./sim_worker.ts');
