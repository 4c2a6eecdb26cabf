// flam detect: open-vocabulary sound event detection on audio files with the shipped (or given) model.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { nodeRuntime } from '../../gpu/node.ts';
import { tuneMatmul } from '../../ops/matmul.ts';
import { decodeAudio } from '../../audio/decode.ts';
import { detect, checkPrompts, type DetectResult } from '../../infer/detect.ts';
import { renderFigure } from '../../viz/figure.ts';
import { encodePng } from '../../io/png.ts';
import { atomicWriteSync } from '../fsutil.ts';
import { loadModel, loadTokenizer, DEFAULT_MODEL } from '../model.ts';
import { parseArgs } from '../argv.ts';

export const summary = 'detect events: flam detect AUDIO... --prompt "dog barking" [--prompt ...] [--json OUT] [--tsv OUT] [--png OUT]';

const HELP = `flam detect AUDIO... --prompt TEXT [--prompt TEXT ...] [options]

  Scores every prompt on every 0.3125 s frame of each file (10 s windows, overlapping by default, stitched into one
  timeline) with FLAM's unbiased frame map, and prints the detected events.

options:
  --prompt TEXT        a text query (repeat for several; at least one)
  --model FILE         model file or training checkpoint (default ${DEFAULT_MODEL})
  --threshold X        score threshold for events (default 0.5)
  --hop S              seconds between window starts (default 5)
  --min-duration S     drop events shorter than S seconds (default 0)
  --merge-gap S        merge events separated by at most S seconds (default 0)
  --no-median          skip the 3-tap temporal median
  --json OUT           write {"files": [{"file", "duration", "frame_hop", "prompts", "scores", "events"}]}
  --tsv OUT            write DCASE events: filename, onset, offset, event_label
  --png OUT            write a figure (log-mel plus one heat-map row per prompt); with several files, OUT gets
                       the file's name appended`;

export async function run(args: string[]): Promise<void> {
  const a = parseArgs('flam detect', args, {
    prompt: { type: 'list' }, model: { type: 'string' }, threshold: { type: 'number' }, hop: { type: 'number' },
    'min-duration': { type: 'number' }, 'merge-gap': { type: 'number' }, 'no-median': { type: 'flag' },
    json: { type: 'string' }, tsv: { type: 'string' }, png: { type: 'string' }, help: { type: 'flag' },
  });
  if (a.help) { console.log(HELP); return; }
  const files = a._;
  if (files.length === 0) throw new Error('no audio files given (flam detect --help)');
  const prompts = (a.prompt as string[] | undefined) ?? [];
  checkPrompts(prompts);
  // decode first: bad files fail before the model loads
  const audio = await Promise.all(files.map(async (f) => {
    let bytes: Buffer;
    try { bytes = readFileSync(f); } catch (e) { throw new Error(`${f}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
    return decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), f);
  }));
  const rt = await nodeRuntime();
  await tuneMatmul(rt);
  const [model, tok] = await Promise.all([loadModel(rt, a.model as string | undefined), loadTokenizer()]);
  const results: (DetectResult & { file: string })[] = [];
  for (let i = 0; i < files.length; i++) {
    const long = audio[i].samples.length > 480000 * 3;
    const r = await detect(model, tok, audio[i].samples, prompts, {
      hop: a.hop as number | undefined, threshold: a.threshold as number | undefined, median: !a['no-median'],
      minDuration: a['min-duration'] as number | undefined, mergeGap: a['merge-gap'] as number | undefined, withLogmel: !!a.png,
      onProgress: long ? (d, n) => process.stderr.write(`\r${files[i]}: window ${d}/${n}`) : undefined,
    });
    if (long) process.stderr.write('\n');
    results.push({ ...r, file: files[i] });
    console.log(`${files[i]} (${r.duration.toFixed(2)} s): ${r.events.length} event${r.events.length === 1 ? '' : 's'}`);
    for (const e of r.events) console.log(`  ${e.onset.toFixed(3).padStart(8)} - ${e.offset.toFixed(3).padStart(8)} s  ${e.prompt}  (score ${e.score.toFixed(2)})`);
    if (a.png) {
      const out = files.length > 1 ? `${a.png as string}.${basename(files[i])}.png` : (a.png as string);
      const fig = renderFigure({ mel: r.logmel!.data, melFrames: r.logmel!.frames, melBins: 64, prompts, scores: r.scores, duration: r.duration });
      atomicWriteSync(out, encodePng(fig.width, fig.height, fig.rgba));
      console.log(`  figure: ${out}`);
    }
  }
  if (a.json) {
    const j = { files: results.map((r) => ({ file: r.file, duration: r.duration, frame_hop: r.frameHop, prompts: r.prompts, scores: r.scores.map((s) => Array.from(s, (v) => Math.round(v * 1e4) / 1e4)), events: r.events.map((e) => ({ prompt: e.prompt, onset: round3(e.onset), offset: round3(e.offset), score: round3(e.score) })) })) };
    atomicWriteSync(a.json as string, new TextEncoder().encode(JSON.stringify(j) + '\n'));
  }
  if (a.tsv) {
    const lines = ['filename\tonset\toffset\tevent_label', ...results.flatMap((r) => r.events.map((e) => `${basename(r.file)}\t${round3(e.onset)}\t${round3(e.offset)}\t${e.prompt}`))];
    atomicWriteSync(a.tsv as string, new TextEncoder().encode(lines.join('\n') + '\n'));
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
