// DCASE tab-separated label tables (the formats psds_eval, sed_eval and sed_scores_eval read).
//
//   events:   filename \t onset \t offset \t event_label      (columns in any order; extra columns ignored)
//   metadata: filename \t duration
//
// Times are seconds. A row that names a file and leaves onset, offset and event_label all empty is the DCASE way
// of listing a file that has no events; it is kept in `files` and yields no event. Every error names the source
// (a file name or any label the caller passes) and the 1-based line number, as `source:line: message`.
// No node:* imports: the caller reads the text.

/** One sound event: a labelled interval [onset, offset] in seconds of one audio file. */
export interface Event {
  filename: string;
  /** Seconds from the start of the file, >= 0. */
  onset: number;
  /** Seconds from the start of the file, >= onset. */
  offset: number;
  /** Class label (DCASE column `event_label`). */
  label: string;
  /** 1-based line in the source table, when parsed from one. */
  line?: number;
}

/** Alias of {@link Event} for code where the DOM `Event` type is also in scope. */
export type SedEvent = Event;

/** Duration of one audio file, in seconds (DCASE metadata table). */
export interface Meta {
  filename: string;
  duration: number;
  /** 1-based line in the source table, when parsed from one. */
  line?: number;
}

/** A malformed table: `source` and `line` (1-based; 0 when the whole table is at fault) say where. */
export class TsvError extends Error {
  readonly source: string;
  readonly line: number;
  constructor(source: string, line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'TsvError';
    this.source = source;
    this.line = line;
  }
}

/** Two events of one label in one file that overlap in time (or repeat each other exactly). */
export interface OverlapIssue {
  filename: string;
  label: string;
  /** The events involved, earlier onset first. */
  first: Event;
  second: Event;
  /** 'duplicate' when onset and offset are identical, else 'overlap'. */
  kind: 'overlap' | 'duplicate';
  /** `source:lineA,lineB: ...` text, the same as the error thrown in 'error' mode. */
  message: string;
}

/** Options of {@link parseEventTable}. */
export interface EventTableOptions {
  /**
   * Known files with their durations. When given, an event (or empty row) of a file that is not listed is an error.
   */
  meta?: ReadonlyMap<string, number> | readonly Meta[];
  /**
   * What to do with overlapping or duplicated events of the same label in the same file:
   * 'error' (default) throws a {@link TsvError} naming both lines; 'report' keeps them and lists them in
   * `overlaps` (real annotations, e.g. DCASE 2019 validation, contain a few); 'ignore' skips the check.
   */
  overlaps?: 'error' | 'report' | 'ignore';
}

/** Result of {@link parseEventTable}. */
export interface EventTable {
  events: Event[];
  /** Every file named in the table, including files listed with no events, in first-seen order. */
  files: string[];
  /** Overlapping / duplicated same-label events (filled in 'report' mode only). */
  overlaps: OverlapIssue[];
}

const EVENT_COLUMNS = ['filename', 'onset', 'offset', 'event_label'] as const;
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

interface Row { line: number; cells: string[] }

/** Splits text into non-blank rows (1-based line numbers kept); strips a BOM and \r. */
function rows(text: string): Row[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: Row[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (l.trim() === '') continue;
    out.push({ line: i + 1, cells: l.split('\t').map((c) => c.trim()) });
  }
  return out;
}

function headerIndex(header: Row, required: readonly string[], source: string): number[] {
  const idx = required.map((name) => header.cells.indexOf(name));
  const missing = required.filter((_, i) => idx[i] < 0);
  if (missing.length) {
    throw new TsvError(source, header.line,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} in header ` +
      `(got ${header.cells.map((c) => `'${c}'`).join(', ')}; expected tab-separated ${required.join(', ')})`);
  }
  for (let i = 0; i < required.length; i++) {
    if (header.cells.indexOf(required[i], idx[i] + 1) >= 0) throw new TsvError(source, header.line, `column '${required[i]}' appears twice in header`);
  }
  return idx;
}

function parseNumber(s: string, column: string, source: string, line: number): number {
  if (!NUMBER_RE.test(s)) throw new TsvError(source, line, `${column} '${s}' is not a number`);
  return Number(s);
}

function toMetaMap(meta: ReadonlyMap<string, number> | readonly Meta[]): ReadonlyMap<string, number> {
  if (meta instanceof Map) return meta;
  return metaMap(meta as readonly Meta[]);
}

/**
 * Parses a DCASE event table (`filename, onset, offset, event_label`, tab-separated, header first, columns in any
 * order). Throws a {@link TsvError} naming `source` and the line for: a header without one of the four columns, a
 * row with fewer cells than the header needs, a row with some but not all of onset/offset/event_label empty, an
 * empty filename, a non-numeric or negative onset/offset, onset > offset, a file absent from `opts.meta` (when
 * given), and overlapping or duplicated events of one label in one file (see `opts.overlaps`).
 * An empty table (header only) is valid.
 */
export function parseEventTable(text: string, source: string, opts: EventTableOptions = {}): EventTable {
  const all = rows(text);
  if (all.length === 0) throw new TsvError(source, 0, `empty table: no header (expected tab-separated ${EVENT_COLUMNS.join(', ')})`);
  const [fi, oni, offi, li] = headerIndex(all[0], EVENT_COLUMNS, source);
  const need = Math.max(fi, oni, offi, li) + 1;
  const meta = opts.meta ? toMetaMap(opts.meta) : undefined;
  const events: Event[] = [];
  const files: string[] = [];
  const seen = new Set<string>();
  for (let r = 1; r < all.length; r++) {
    const { line, cells } = all[r];
    // A file listed with no events: `name` alone, or `name\t\t\t`.
    const filename = cells[fi] ?? '';
    const onS = cells[oni] ?? '', offS = cells[offi] ?? '', label = cells[li] ?? '';
    const emptyRow = onS === '' && offS === '' && label === '';
    if (cells.length < need && !emptyRow) {
      throw new TsvError(source, line, `missing columns: ${cells.length} tab-separated cells, the header needs ${need}`);
    }
    if (filename === '') throw new TsvError(source, line, 'empty filename');
    if (meta && !meta.has(filename)) throw new TsvError(source, line, `file '${filename}' is not in the metadata`);
    if (!seen.has(filename)) { seen.add(filename); files.push(filename); }
    if (emptyRow) continue;
    for (const [v, name] of [[onS, 'onset'], [offS, 'offset'], [label, 'event_label']] as const) {
      if (v === '') throw new TsvError(source, line, `missing value for '${name}'`);
    }
    const onset = parseNumber(onS, 'onset', source, line);
    const offset = parseNumber(offS, 'offset', source, line);
    if (onset < 0) throw new TsvError(source, line, `negative onset ${onS}`);
    if (onset > offset) throw new TsvError(source, line, `onset ${onS} > offset ${offS} (event '${label}' in '${filename}')`);
    events.push({ filename, onset, offset, label, line });
  }
  const mode = opts.overlaps ?? 'error';
  const overlaps = mode === 'ignore' ? [] : findOverlaps(events, source);
  if (mode === 'error' && overlaps.length) {
    const o = overlaps[0];
    throw new TsvError(source, o.second.line ?? 0, o.message.slice(o.message.indexOf(': ') + 2));
  }
  return { events, files, overlaps: mode === 'report' ? overlaps : [] };
}

/**
 * Lists pairs of events with the same filename and label that overlap (one starts strictly before the other
 * ends) or are identical. Touching events (offset == next onset) do not overlap. Each overlapping event is
 * paired with the earlier-starting event that reaches furthest, so k mutually overlapping events give k-1 issues.
 */
export function findOverlaps(events: readonly Event[], source = '<events>'): OverlapIssue[] {
  const groups = new Map<string, Event[]>();
  for (const e of events) {
    const k = `${e.filename}\u0000${e.label}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  const out: OverlapIssue[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.onset - b.onset || a.offset - b.offset || (a.line ?? 0) - (b.line ?? 0));
    let reach: Event | undefined; // earlier event with the largest offset so far
    for (const e of g) {
      if (reach) {
        const dup = e.onset === reach.onset && e.offset === reach.offset;
        if (dup || e.onset < reach.offset) {
          const kind = dup ? 'duplicate' : 'overlap';
          const lines = [reach.line, e.line].filter((l) => l !== undefined).join(',');
          out.push({
            filename: e.filename, label: e.label, first: reach, second: e, kind,
            message: `${source}:${lines || 0}: ${kind === 'duplicate' ? 'duplicated' : 'overlapping'} '${e.label}' events in ` +
              `'${e.filename}': [${reach.onset}, ${reach.offset}] (line ${reach.line ?? '?'}) and [${e.onset}, ${e.offset}] (line ${e.line ?? '?'})`,
          });
        }
      }
      if (!reach || e.offset > reach.offset) reach = e;
    }
  }
  out.sort((a, b) => (a.second.line ?? 0) - (b.second.line ?? 0));
  return out;
}

/**
 * Parses a DCASE metadata table (`filename, duration`, tab-separated, header first). Throws a {@link TsvError}
 * naming `source` and the line for a missing column, a non-numeric or negative duration, an empty filename, or a
 * file listed twice with different durations. A file listed twice with the same duration is kept once (the
 * DCASE 2019 validation metadata repeats files). An empty table is an error: PSDS needs the total duration.
 */
export function parseMetaTable(text: string, source: string): Meta[] {
  const all = rows(text);
  if (all.length === 0) throw new TsvError(source, 0, 'empty table: no header (expected tab-separated filename, duration)');
  const [fi, di] = headerIndex(all[0], ['filename', 'duration'], source);
  const need = Math.max(fi, di) + 1;
  const out: Meta[] = [];
  const byName = new Map<string, Meta>();
  for (let r = 1; r < all.length; r++) {
    const { line, cells } = all[r];
    if (cells.length < need) throw new TsvError(source, line, `missing columns: ${cells.length} tab-separated cells, the header needs ${need}`);
    const filename = cells[fi];
    if (filename === '') throw new TsvError(source, line, 'empty filename');
    if (cells[di] === '') throw new TsvError(source, line, `missing value for 'duration'`);
    const duration = parseNumber(cells[di], 'duration', source, line);
    if (duration < 0) throw new TsvError(source, line, `negative duration ${cells[di]}`);
    const prev = byName.get(filename);
    if (prev) {
      if (prev.duration !== duration) {
        throw new TsvError(source, line, `file '${filename}' listed again with duration ${duration} (line ${prev.line}: ${prev.duration})`);
      }
      continue;
    }
    const m: Meta = { filename, duration, line };
    byName.set(filename, m);
    out.push(m);
  }
  if (out.length === 0) throw new TsvError(source, all[0].line, 'metadata table has no files');
  return out;
}

/** filename -> duration map of a metadata list (first entry wins on repeats). */
export function metaMap(meta: readonly Meta[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of meta) if (!m.has(x.filename)) m.set(x.filename, x.duration);
  return m;
}

/** Writes events as a DCASE table with header `filename, onset, offset, event_label` (round-trips with parse). */
export function formatEventTable(events: readonly Event[]): string {
  let s = 'filename\tonset\toffset\tevent_label\n';
  for (const e of events) s += `${e.filename}\t${e.onset}\t${e.offset}\t${e.label}\n`;
  return s;
}

/** Writes a DCASE metadata table with header `filename, duration`. */
export function formatMetaTable(meta: readonly Meta[]): string {
  let s = 'filename\tduration\n';
  for (const m of meta) s += `${m.filename}\t${m.duration}\n`;
  return s;
}
