// DCASE table parsing: formats accepted, and every rejected input reported as `source:line: message`.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  TsvError, findOverlaps, formatEventTable, formatMetaTable, metaMap, parseEventTable, parseMetaTable,
} from '../../src/eval/tsv.ts';

const s = suite('tsv');
const H = 'filename\tonset\toffset\tevent_label\n';

s('parses events, any column order, CRLF, BOM, blank lines, extra columns', () => {
  const t = parseEventTable('\ufeff' + H + 'a.wav\t0.5\t1.25\tdog\r\n\r\nb.wav\t2\t3e0\tcat\n', 'x.tsv');
  assert.equal(t.events, [
    { filename: 'a.wav', onset: 0.5, offset: 1.25, label: 'dog', line: 2 },
    { filename: 'b.wav', onset: 2, offset: 3, label: 'cat', line: 4 },
  ]);
  assert.equal(t.files, ['a.wav', 'b.wav']);
  const r = parseEventTable('score\tevent_label\toffset\tfilename\tonset\n0.9\tdog\t4\ta.wav\t1\n', 'y.tsv');
  assert.equal(r.events, [{ filename: 'a.wav', onset: 1, offset: 4, label: 'dog', line: 2 }]);
  assert.equal(parseEventTable(H, 'empty.tsv').events, []);
});

s('a file listed with empty onset/offset/label has no events but is a file', () => {
  const t = parseEventTable(H + 'a.wav\t\t\t\nb.wav\nc.wav\t1\t2\tdog\n', 'x.tsv');
  assert.equal(t.files, ['a.wav', 'b.wav', 'c.wav']);
  assert.is(t.events.length, 1);
});

s('errors name the source and the line', () => {
  const bad: [string, RegExp][] = [
    ['filename\tonset\tevent_label\na.wav\t1\tdog\n', /^t\.tsv:1: missing column 'offset' in header/],
    ['file\tstart\toffset\tevent_label\n', /^t\.tsv:1: missing columns 'filename', 'onset' in header/],
    [H + 'a.wav\t1\t2\tdog\na.wav\t1\t2\n', /^t\.tsv:3: missing columns: 3 tab-separated cells, the header needs 4/],
    [H + 'a.wav\t1\t\tdog\n', /^t\.tsv:2: missing value for 'offset'/],
    [H + 'a.wav\t1\t2\t\n', /^t\.tsv:2: missing value for 'event_label'/],
    [H + '\t1\t2\tdog\n', /^t\.tsv:2: empty filename/],
    [H + 'a.wav\tabc\t2\tdog\n', /^t\.tsv:2: onset 'abc' is not a number/],
    [H + 'a.wav\t1\t0x10\tdog\n', /^t\.tsv:2: offset '0x10' is not a number/],
    [H + 'a.wav\t1\t2.5.1\tdog\n', /^t\.tsv:2: offset '2.5.1' is not a number/],
    [H + 'a.wav\t1\tNaN\tdog\n', /^t\.tsv:2: offset 'NaN' is not a number/],
    [H + 'a.wav\t1\t2\tdog\n\na.wav\t5\t4\tdog\n', /^t\.tsv:4: onset 5 > offset 4 \(event 'dog' in 'a\.wav'\)/],
    [H + 'a.wav\t-1\t4\tdog\n', /^t\.tsv:2: negative onset -1/],
    ['', /^t\.tsv:0: empty table/],
  ];
  for (const [text, re] of bad) {
    let err: unknown;
    try { parseEventTable(text, 't.tsv'); } catch (e) { err = e; }
    assert.ok(err instanceof TsvError, `${JSON.stringify(text)} must throw`);
    assert.match((err as Error).message, re);
  }
  let caught: TsvError | undefined;
  try { parseEventTable(H + 'a.wav\t1\t2\tdog\na.wav\t5\t4\tdog\n', 'src'); } catch (e) { caught = e as TsvError; }
  assert.ok(caught, 'onset > offset throws');
  assert.is(caught!.source, 'src');
  assert.is(caught!.line, 3);
});

s('files not in the metadata are errors when metadata is given', () => {
  const meta = parseMetaTable('filename\tduration\na.wav\t10\n', 'm.tsv');
  assert.throws(() => parseEventTable(H + 'a.wav\t1\t2\tdog\nz.wav\t1\t2\tdog\n', 'g.tsv', { meta }), /^g\.tsv:3: file 'z\.wav' is not in the metadata/);
  assert.throws(() => parseEventTable(H + 'z.wav\t\t\t\n', 'g.tsv', { meta: metaMap(meta) }), /^g\.tsv:2: file 'z\.wav'/);
  assert.is(parseEventTable(H + 'a.wav\t1\t2\tdog\n', 'g.tsv', { meta }).events.length, 1);
});

s('overlapping and duplicated same-label events: error, report or ignore', () => {
  const text = H + [
    'a.wav\t0\t2\tdog',   // 2
    'a.wav\t1\t3\tcat',   // 3  other label: fine
    'a.wav\t2\t4\tdog',   // 4  touches line 2: fine
    'b.wav\t0\t2\tdog',   // 5  other file: fine
    'a.wav\t3.5\t5\tdog', // 6  overlaps line 4
    'a.wav\t6\t7\tdog',   // 7
    'a.wav\t6\t7\tdog',   // 8  duplicates line 7
  ].join('\n');
  assert.throws(() => parseEventTable(text, 'o.tsv'), /^o\.tsv:6: overlapping 'dog' events in 'a\.wav': \[2, 4\] \(line 4\) and \[3\.5, 5\] \(line 6\)/);
  const r = parseEventTable(text, 'o.tsv', { overlaps: 'report' });
  assert.equal(r.overlaps.map((o) => [o.kind, o.first.line, o.second.line]), [['overlap', 4, 6], ['duplicate', 7, 8]]);
  assert.match(r.overlaps[1].message, /^o\.tsv:7,8: duplicated 'dog' events/);
  assert.is(r.events.length, 7);
  assert.equal(parseEventTable(text, 'o.tsv', { overlaps: 'ignore' }).overlaps, []);
  // An event nested in a long one overlaps it, and so does the next one reaching into the long one.
  const nested = findOverlaps([
    { filename: 'f', onset: 0, offset: 10, label: 'x', line: 1 },
    { filename: 'f', onset: 2, offset: 3, label: 'x', line: 2 },
    { filename: 'f', onset: 4, offset: 12, label: 'x', line: 3 },
  ]);
  assert.equal(nested.map((o) => [o.first.line, o.second.line]), [[1, 2], [1, 3]]);
});

s('metadata: parse, repeats with the same duration kept once, errors', () => {
  const m = parseMetaTable('duration\tfilename\n10\ta.wav\n10.000\ta.wav\n4.5\tb.wav\n', 'm.tsv');
  assert.equal(m, [{ filename: 'a.wav', duration: 10, line: 2 }, { filename: 'b.wav', duration: 4.5, line: 4 }]);
  assert.equal([...metaMap(m)], [['a.wav', 10], ['b.wav', 4.5]]);
  assert.throws(() => parseMetaTable('filename\tduration\na.wav\t10\na.wav\t9\n', 'm.tsv'), /^m\.tsv:3: file 'a\.wav' listed again with duration 9 \(line 2: 10\)/);
  assert.throws(() => parseMetaTable('filename\tduration\na.wav\tten\n', 'm.tsv'), /^m\.tsv:2: duration 'ten' is not a number/);
  assert.throws(() => parseMetaTable('filename\tduration\na.wav\t-1\n', 'm.tsv'), /^m\.tsv:2: negative duration/);
  assert.throws(() => parseMetaTable('filename\tduration\na.wav\n', 'm.tsv'), /^m\.tsv:2: missing columns/);
  assert.throws(() => parseMetaTable('filename\tlength\n', 'm.tsv'), /^m\.tsv:1: missing column 'duration'/);
  assert.throws(() => parseMetaTable('filename\tduration\n', 'm.tsv'), /^m\.tsv:1: metadata table has no files/);
});

s('format round-trips', () => {
  const ev = [{ filename: 'a.wav', onset: 0.1, offset: 2.25, label: 'dog' }, { filename: 'b.wav', onset: 3, offset: 3, label: 'cat' }];
  assert.equal(parseEventTable(formatEventTable(ev), 'f').events.map(({ line, ...e }) => e), ev);
  const m = [{ filename: 'a.wav', duration: 10 }];
  assert.equal(parseMetaTable(formatMetaTable(m), 'f').map(({ line, ...x }) => x), m);
});

s.run();
