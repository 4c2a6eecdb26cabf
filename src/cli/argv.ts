// Small command-line option parser for the CLI commands: `--name value`, `--name=value`, boolean `--flag`, and
// options that take several values (`--detections a.tsv b.tsv`). Unknown options and missing values are errors
// that name the option.

export interface OptionSpec {
  /** 'string' (one value), 'number' (one finite number), 'list' (one or more values up to the next --option),
   * 'flag' (no value). */
  type: 'string' | 'number' | 'list' | 'flag';
}

export type Parsed = Record<string, string | number | string[] | boolean | undefined> & { _: string[] };

/** Parses args against spec (keys without the leading --). Positional arguments go to `_`. */
export function parseArgs(cmd: string, args: readonly string[], spec: Readonly<Record<string, OptionSpec>>): Parsed {
  const out: Parsed = { _: [] };
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    // one-letter short options (-o FILE) are spelled like their long form (--o) in the spec
    if (/^-[a-zA-Z]$/.test(a)) a = `-${a}`;
    if (!a.startsWith('--')) { out._.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new Error(`${cmd}: unknown option --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if (s.type === 'flag') {
      if (inline !== undefined) throw new Error(`${cmd}: --${name} takes no value`);
      out[name] = true;
      continue;
    }
    if (s.type === 'list') {
      const vals = inline !== undefined ? [inline] : [];
      while (i + 1 < args.length && !args[i + 1].startsWith('--') && !/^-[a-zA-Z]$/.test(args[i + 1])) vals.push(args[++i]);
      if (vals.length === 0) throw new Error(`${cmd}: --${name} needs at least one value`);
      out[name] = [...((out[name] as string[] | undefined) ?? []), ...vals];
      continue;
    }
    const v = inline ?? args[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`${cmd}: --${name} needs a value`);
    if (s.type === 'number') {
      const x = Number(v);
      if (v.trim() === '' || !Number.isFinite(x)) throw new Error(`${cmd}: --${name} must be a number (got '${v}')`);
      out[name] = x;
    } else out[name] = v;
  }
  return out;
}
