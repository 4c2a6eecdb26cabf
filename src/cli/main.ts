// flam CLI entry. Each command lives in src/cli/commands/<name>.ts and exports
// `run(args: string[]): Promise<void>` plus `summary` (one line for the usage text).
import { readdirSync } from 'node:fs';

const here = import.meta.dirname;

function commands(): string[] {
  return readdirSync(`${here}/commands`).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
}

async function usage(): Promise<string> {
  const lines = ['usage: flam <command> [options]', '', 'commands:'];
  for (const c of commands()) {
    const m = await import(`./commands/${c}.ts`);
    lines.push(`  ${c.padEnd(10)} ${m.summary ?? ''}`);
  }
  lines.push('', 'flam <command> --help shows the options of a command.');
  return lines.join('\n');
}

const [cmd, ...rest] = process.argv.slice(2);
try {
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    console.log(await usage());
  } else if (!commands().includes(cmd)) {
    console.error(`flam: unknown command '${cmd}'\n\n${await usage()}`);
    process.exit(2);
  } else {
    const m = await import(`./commands/${cmd}.ts`);
    await m.run(rest);
  }
  process.exit(0);
} catch (e) {
  console.error(`flam ${cmd}: ${(e as Error).message}`);
  process.exit(1);
}
