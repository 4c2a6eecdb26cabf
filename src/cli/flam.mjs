#!/usr/bin/env node
// `flam` command: registers tsx (TypeScript sources run directly) and hands over to src/cli/main.ts.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
