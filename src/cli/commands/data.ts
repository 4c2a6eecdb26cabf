// flam data: build the frame-labelled corpus (source library from Debian/npm packages + simulated mixtures).
import { buildDataset } from '../data/dataset.ts';
import { buildLibrary } from '../data/library.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'build the simulated SED corpus: flam data build --out DIR --clips N --seed S';

const USAGE = `flam data build --out DIR --clips N --seed S [options]
flam data library --out DIR [options]

  build     renders the source library (cached in DIR/sources, or --library DIR) if needed, then simulates N
            10 s mixtures split into DIR/train, DIR/validation, DIR/test (WAV + DCASE labels.tsv/meta.tsv +
            captions.json with per-event captions and u32 frame masks), and DIR/dataset.json
  library   renders only the source library into DIR

options:
  --library DIR          source library cache (default DIR/sources)
  --library-seed S       seed of the library plan (default 0; the same library serves every mixture seed)
  --per-class N          GM / drum renders per class (default 8); --per-speech N: espeak renders per class (16)
  --no-wesnoth           skip the wesnoth-1.16-data recordings (otherwise downloaded once with apt-get download)
  --no-speech            skip espeak-ng speech
  --format F             pcm16 (default) or float32 mixtures
  --validation F --test F  fractions of the clips (default 0.1 each)
  --max-events N         at most N events per clip (default 10)
  --workers N            worker threads simulating clips (default min(2, cores); the output does not depend on it)
  --json                 print the summary as JSON

Needs Debian packages fluid-soundfont-gm and espeak-ng: apt-get install -y fluid-soundfont-gm espeak-ng`;

const SPEC = {
  out: { type: 'string' }, clips: { type: 'number' }, seed: { type: 'number' }, library: { type: 'string' },
  'library-seed': { type: 'number' }, 'per-class': { type: 'number' }, 'per-speech': { type: 'number' },
  'no-wesnoth': { type: 'flag' }, 'no-speech': { type: 'flag' }, format: { type: 'string' },
  validation: { type: 'number' }, test: { type: 'number' }, 'max-events': { type: 'number' }, workers: { type: 'number' }, json: { type: 'flag' }, help: { type: 'flag' },
} as const;

export async function run(args: string[]): Promise<void> {
  const o = parseArgs('flam data', args, SPEC);
  const sub = o._[0];
  if (o.help || sub === undefined || sub === 'help') { console.log(USAGE); return; }
  if (sub !== 'build' && sub !== 'library') throw new Error(`unknown subcommand '${sub}' (build, library)\n\n${USAGE}`);
  if (o._.length > 1) throw new Error(`unexpected argument '${o._[1]}'`);
  if (typeof o.out !== 'string') throw new Error('--out DIR is required');
  const packages: ('gm' | 'speech' | 'wesnoth')[] = ['gm'];
  if (!o['no-speech']) packages.push('speech');
  if (!o['no-wesnoth']) packages.push('wesnoth');
  const libraryOptions = {
    seed: (o['library-seed'] as number | undefined) ?? 0, packages,
    perClass: o['per-class'] as number | undefined, perSpeechClass: o['per-speech'] as number | undefined,
  };
  const log = (m: string) => console.error(m);
  if (sub === 'library') {
    const m = await buildLibrary({ ...libraryOptions, dir: o.out, log });
    if (o.json) console.log(JSON.stringify({ dir: o.out, sources: m.sources.length, packages: m.packages }));
    return;
  }
  if (typeof o.clips !== 'number' || !Number.isInteger(o.clips) || o.clips < 0) throw new Error('--clips N (a non-negative integer) is required');
  if (typeof o.seed !== 'number' || !Number.isInteger(o.seed)) throw new Error('--seed S (an integer) is required');
  const format = (o.format as string | undefined) ?? 'pcm16';
  if (format !== 'pcm16' && format !== 'float32') throw new Error(`--format must be pcm16 or float32 (got '${format}')`);
  const fractions = { validation: (o.validation as number | undefined) ?? 0.1, test: (o.test as number | undefined) ?? 0.1 };
  if (!(fractions.validation >= 0 && fractions.test >= 0 && fractions.validation + fractions.test <= 1)) throw new Error('--validation and --test must be fractions summing to at most 1');
  const maxEvents = o['max-events'] as number | undefined;
  const s = await buildDataset({
    out: o.out, clips: o.clips, seed: o.seed, library: o.library as string | undefined, libraryOptions, fractions, format, log,
    sim: maxEvents !== undefined ? { maxEvents } : undefined, workers: o.workers as number | undefined,
  });
  if (o.json) { console.log(JSON.stringify(s)); return; }
  console.log(`built ${o.clips} clips in ${o.out}: train ${s.counts.train}, validation ${s.counts.validation}, test ${s.counts.test}`);
  console.log(`time: library ${s.seconds.library.toFixed(1)} s, mixtures ${s.seconds.simulate.toFixed(1)} s (${s.clipsPerSecond.toFixed(1)} clips/s), total ${s.seconds.total.toFixed(1)} s`);
}
