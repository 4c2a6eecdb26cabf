// The source library plan: which sounds to render or extract, each with its class, package, licence and
// parameters. A pure function of the seed (and of the wesnoth file list, when that package is used), so the
// library is reproducible; src/cli/data/library.ts renders the plan into a cache directory. Browser-safe.
//
// Packages (Debian unless noted):
//   fluid-soundfont-gm  FluidR3_GM.sf2 (MIT), rendered by npm spessasynth_core (Apache-2.0): GM programs and the
//                       channel-10 drum kits, dry (no reverb/chorus), 48 kHz.
//   espeak-ng           speech (GPL-3.0-or-later), 22.05 kHz, resampled to 48 kHz.
//   wesnoth-1.16-data   recorded effects from data/core/sounds (GPL-2.0-or-later), OGG/WAV at 11-48 kHz.

import { hashSeed, Rng } from './rng.ts';

export const LIBRARY_SAMPLE_RATE = 48000;
/** Longest source kept (seconds); longer renders/recordings are cut (with a 10 ms fade-out). */
export const MAX_SOURCE_SECONDS = 8;

export interface PackageInfo { package: string; licence: string; kind: 'debian' | 'npm' }
export const PACKAGES = Object.freeze({
  gm: { package: 'fluid-soundfont-gm', licence: 'MIT', kind: 'debian' } as PackageInfo,
  speech: { package: 'espeak-ng', licence: 'GPL-3.0-or-later', kind: 'debian' } as PackageInfo,
  wesnoth: { package: 'wesnoth-1.16-data', licence: 'GPL-2.0-or-later', kind: 'debian' } as PackageInfo,
  synthetic: { package: 'flam-webgpu', licence: 'MIT', kind: 'npm' } as PackageInfo,
});

/** One note of a GM render (channel 0) or one hit of a drum render (channel 9). Times in seconds. */
export interface NoteSpec { key: number; velocity: number; at: number; duration: number }

interface SpecBase { id: string; label: string }
export interface GmSpec extends SpecBase { kind: 'gm'; program: number; bankMSB: number; notes: NoteSpec[] }
export interface DrumSpec extends SpecBase { kind: 'drum'; kit: number; notes: NoteSpec[] }
export interface SpeechSpec extends SpecBase { kind: 'speech'; voice: string; variant: string; speed: number; pitch: number; text: string }
export interface WesnothSpec extends SpecBase { kind: 'wesnoth'; path: string }
export type SourceSpec = GmSpec | DrumSpec | SpeechSpec | WesnothSpec;

export function packageOf(s: SourceSpec): PackageInfo {
  return s.kind === 'gm' || s.kind === 'drum' ? PACKAGES.gm : s.kind === 'speech' ? PACKAGES.speech : PACKAGES.wesnoth;
}

// --- GM programs per class ------------------------------------------------------------------------------------
// programs: [program, bankMSB] (bank 8/16 = FluidR3's variation presets); keys: MIDI key range; dur: note length
// range (s); pattern: 'melodic' (single notes, chords or short phrases), 'single' (one note), 'repeat' (1-3 notes of
// one key, e.g. gunshots).
interface GmRecipe { programs: [number, number][]; keys: [number, number]; dur: [number, number]; pattern: 'melodic' | 'single' | 'repeat' }
const m = (programs: (number | [number, number])[], keys: [number, number], dur: [number, number] = [0.25, 2.5], pattern: GmRecipe['pattern'] = 'melodic'): GmRecipe =>
  ({ programs: programs.map((p) => (typeof p === 'number' ? [p, 0] : p)), keys, dur, pattern });

export const GM_RECIPES: Readonly<Record<string, GmRecipe>> = Object.freeze({
  piano: m([0, 1, 2, 3], [36, 96]),
  electric_piano: m([4, 5, [4, 8], [5, 8]], [40, 88]),
  harpsichord: m([6, [6, 8]], [41, 89]),
  glockenspiel: m([8, 9], [72, 105], [0.2, 1.5]),
  music_box: m([10], [60, 96], [0.2, 1.5]),
  marimba: m([11, 12, 13], [48, 96], [0.15, 1.2]),
  tubular_bells: m([14, [14, 8]], [55, 79], [0.5, 2.5]),
  organ: m([16, 17, 19, [19, 8], [16, 8]], [36, 84], [0.4, 3]),
  accordion: m([21, 23, [21, 8]], [48, 84], [0.3, 2.5]),
  harmonica: m([22], [60, 84], [0.3, 2]),
  acoustic_guitar: m([24, 25, [24, 8], [25, 8]], [40, 76]),
  electric_guitar: m([26, 27, 28, [26, 8]], [40, 81]),
  distorted_guitar: m([29, 30], [40, 76]),
  bass_guitar: m([32, 33, 34, 35, 36, 37], [28, 55], [0.2, 1.5]),
  violin: m([40, 41, 110, [40, 8]], [55, 96], [0.3, 2.5]),
  cello: m([42], [36, 67], [0.4, 2.5]), // not 43 (contrabass): FluidR3's zones stop below key 62
  pizzicato_strings: m([45], [43, 84], [0.2, 0.8]),
  harp: m([46], [36, 91], [0.3, 2]),
  timpani: m([47], [40, 55], [0.3, 2]),
  string_ensemble: m([48, 49, 44, [48, 8]], [43, 88], [0.5, 3]),
  choir: m([52, 53, 54], [48, 79], [0.6, 3]),
  trumpet: m([56, 59], [55, 82], [0.2, 2]),
  trombone: m([57, 58], [34, 65], [0.3, 2]),
  french_horn: m([60], [41, 72], [0.4, 2.5]),
  brass_section: m([61, [61, 8]], [48, 79], [0.2, 1.5]),
  saxophone: m([64, 65, 66, 67], [44, 76], [0.2, 2]),
  oboe: m([68, 69], [58, 88], [0.3, 2]),
  clarinet: m([71], [50, 84], [0.3, 2]),
  bassoon: m([70], [34, 65], [0.3, 2]),
  flute: m([72, 73], [60, 96], [0.25, 2]),
  recorder: m([74], [60, 91], [0.25, 1.5]),
  pan_flute: m([75], [60, 88], [0.3, 2]),
  whistling: m([78], [65, 91], [0.3, 2]),
  ocarina: m([79], [60, 88], [0.3, 2]),
  synth_lead: m([80, 81, 84, [80, 8]], [48, 84], [0.2, 2]),
  synth_pad: m([88, 89, 91, 94], [43, 79], [1, 4]),
  sitar: m([104], [48, 79], [0.4, 2]),
  banjo: m([105], [50, 81], [0.2, 1]),
  bagpipe: m([109], [55, 77], [0.6, 3]),
  steel_drum: m([114], [55, 84], [0.2, 1]),
  taiko_drum: m([116, [116, 8]], [36, 60], [0.3, 1.5], 'repeat'),
  guitar_fret_noise: m([120], [48, 72], [0.3, 1.5], 'single'),
  breathing: m([121], [55, 72], [0.8, 3], 'single'),
  bird_tweet: m([123], [60, 84], [0.5, 3], 'single'),
  telephone_ring: m([124], [60, 72], [1, 4], 'single'),
  helicopter: m([125], [48, 72], [2, 6], 'single'),
  applause: m([126], [55, 72], [2, 6], 'single'),
  gunshot: m([127], [40, 72], [0.2, 0.5], 'repeat'),
  reverse_cymbal: m([119], [55, 72], [1, 3], 'single'),
  seashore: m([122], [55, 67], [7, 7.5], 'single'),
});

// --- GM percussion: keys per class (channel 10), kits by program number ---------------------------------------
export const DRUM_KITS: readonly number[] = [0, 8, 16, 24, 25, 32, 40, 48];
export const DRUM_RECIPES: Readonly<Record<string, number[]>> = Object.freeze({
  kick_drum: [35, 36],
  snare_drum: [37, 38, 40],
  hi_hat: [42, 44, 46],
  crash_cymbal: [49, 52, 55, 57],
  ride_cymbal: [51, 53, 59],
  tom_drum: [41, 43, 45, 47, 48, 50],
  hand_clap: [39],
  cowbell: [56],
  tambourine: [54],
  conga: [60, 61, 62, 63, 64],
  shaker: [69, 70],
  triangle: [80, 81],
  woodblock: [75, 76, 77],
  referee_whistle: [71, 72],
  guiro: [73, 74],
});

// --- espeak-ng ------------------------------------------------------------------------------------------------
const EN_VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'en-gb-x-rp'];
const EN_PHRASES = [
  'please close the door behind you',
  'the train to the city leaves in ten minutes',
  'can you hear me over there',
  'it is going to rain later this afternoon',
  'turn left at the next corner',
  'i think we should leave now',
  'the meeting has been moved to tuesday',
  'welcome to the museum of natural history',
  'where did you put the keys',
  'this is a recorded announcement',
  'dinner will be ready in half an hour',
  'the quick brown fox jumps over the lazy dog',
  'attention please, the store will close soon',
  'let me know when you are ready',
  'we are experiencing a short delay',
  'good morning, how are you today',
  'could you pass me the salt',
  'the next stop is central station',
  'remember to water the plants',
  'i have no idea what happened',
];
const FOREIGN: Readonly<Record<string, string[]>> = Object.freeze({
  de: ['guten morgen, wie geht es dir', 'der zug hat leider verspätung', 'bitte schließen sie die tür', 'wo ist der bahnhof'],
  fr: ['bonjour, comment allez vous', 'le train part dans dix minutes', 'je ne sais pas où il est', 'merci beaucoup pour votre aide'],
  es: ['buenos días, cómo estás', 'el tren sale a las ocho', 'no entiendo lo que dices', 'la cena está lista'],
  it: ['buongiorno, come stai', 'il treno è in ritardo', 'dove si trova la stazione', 'grazie mille per tutto'],
});
const NUMBERS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const MALE_VARIANTS = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', ''];
const FEMALE_VARIANTS = ['f1', 'f2', 'f3', 'f4', 'f5'];
const WHISPER_VARIANTS = ['whisper', 'whisperf'];
export const SPEECH_CLASSES: readonly string[] = ['male_speech', 'female_speech', 'whispering', 'foreign_speech', 'counting'];

// --- wesnoth: file name (relative to data/core/sounds, without extension) -> class -----------------------------
// First matching rule wins; unmatched files are not used. Ambient loops that overlap event classes (birds, campfire)
// become events of those classes; night and ship become backgrounds; war drums are not used.
export const WESNOTH_RULES: readonly (readonly [RegExp, string])[] = [
  [/^ambient\/(birds\d|morning)$/, 'bird_tweet'],
  [/^ambient\/campfire$/, 'fire_crackle'],
  [/^ambient\/night$/, 'night_ambience'],
  [/^ambient\/ship$/, 'ship_ambience'],
  [/^ambient\//, ''],
  [/^horn-signals\//, 'horn_signal'],
  [/-miss(-\d+)?$|^miss-\d+$|^(throw-\d+|dart|sling|sling-big)$/, 'whoosh'],
  [/^(human-hit|human-old-hit|dwarf-hit|elf-hit)-\d+$/, 'man_grunt'],
  [/^(human-die|human-old-die|dwarf-die)-\d+$/, 'man_scream'],
  [/^human-female-/, 'woman_scream'],
  [/^(ogre|troll|orc|orc-small|goblin|yeti|tusker|drake|wose)-(hit|die)/, 'monster_growl'],
  [/^ugg$/, 'monster_growl'],
  [/^wolf-/, 'wolf_growl'],
  [/^horse-(hit|die)/, 'horse_neigh'],
  [/^horse(-elf)?-canter$/, 'horse_gallop'],
  [/^bat-/, 'bat_squeak'],
  [/^gryphon-/, 'bird_screech'],
  [/^hiss(-big|-hit|-die)?$/, 'snake_hiss'],
  [/^skeleton-/, 'bones_rattle'],
  [/^(zombie-hit|ghoul-hit|groan|wail|wail-long|wail-sml|lich-hit|lich-die|zombie-attack)/, 'zombie_groan'],
  [/^(sword-\d|dagger-swish|knife|throwing-knife)$/, 'sword_slash'],
  [/^(bow|bow-puny|bow-puny-fire|crossbow|crossbow-fire)$/, 'arrow_shot'],
  [/^(fist|club|mace|staff|flail|spear|pincers|claws|tail)$/, 'impact_hit'],
  [/^(axe|hatchet)$/, 'axe_chop'],
  [/^(explosion|cave-in|rumble)$/, 'explosion'],
  [/^(gunshot|thunderstick|dragonstick)$/, 'gunshot'],
  [/^(fire|torch|flame-big|melee-fire)$/, 'fire_crackle'],
  [/^lightning$/, 'thunder'],
  [/^(magic-|magicmissile|heal|slowed|petrified|poison|entangle)/, 'magic_spell'],
  [/^fanfare-short$/, 'brass_section'],
  [/^(water-blast|ink|mud-glob|mud-fist|squishy-hit|squishy-strike)$/, 'splash'],
  [/^(bite|bite-small)$/, 'bite'],
  [/^gold$/, 'coins'],
  [/^dwarf-laugh$/, 'laughing'],
];

/** Class of a wesnoth sound file (path relative to data/core/sounds), or null when the file is not used. */
export function wesnothLabel(relPath: string): string | null {
  const stem = relPath.replace(/\.(ogg|wav)$/i, '');
  for (const [re, label] of WESNOTH_RULES) if (re.test(stem)) return label || null;
  return null;
}

/** Options of {@link planLibrary}. */
export interface PlanOptions {
  /** Renders per GM/drum class (default 8). */
  perClass?: number;
  /** Renders per speech class (default 16). */
  perSpeechClass?: number;
  /** Which packages to plan for (default all three). */
  packages?: readonly ('gm' | 'speech' | 'wesnoth')[];
  /** Wesnoth sound files (relative to data/core/sounds) when 'wesnoth' is planned. */
  wesnothFiles?: readonly string[];
  /** Restrict the plan to these classes. */
  classes?: readonly string[];
}

const pad = (i: number) => String(i).padStart(3, '0');
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function gmNotes(r: Rng, rec: GmRecipe): NoteSpec[] {
  const key = () => r.int(rec.keys[0], rec.keys[1]);
  const vel = () => r.int(50, 127);
  const dur = () => round3(r.uniform(rec.dur[0], rec.dur[1]));
  if (rec.pattern === 'single') return [{ key: key(), velocity: vel(), at: 0, duration: dur() }];
  if (rec.pattern === 'repeat') {
    const k = key(), n = r.int(1, 3), out: NoteSpec[] = [];
    let t = 0;
    for (let i = 0; i < n; i++) { out.push({ key: k, velocity: vel(), at: round3(t), duration: dur() }); t += r.uniform(0.25, 0.8); }
    return out;
  }
  const u = r.float();
  if (u < 0.4) return [{ key: key(), velocity: vel(), at: 0, duration: dur() }];
  if (u < 0.6) { // chord: 2-3 keys within an octave, same onset and length
    const root = r.int(rec.keys[0], Math.max(rec.keys[0], rec.keys[1] - 7));
    const d = dur(), v = vel();
    const steps = r.pick([[0, 4, 7], [0, 3, 7], [0, 7], [0, 5, 9], [0, 4]]);
    return steps.map((s) => ({ key: Math.min(rec.keys[1], root + s), velocity: v, at: 0, duration: d }))
      .filter((n, i, a) => a.findIndex((o) => o.key === n.key) === i);
  }
  // phrase: 2-5 notes, each starting 0.12-0.6 s after the previous, lengths up to the next onset (legato-ish).
  const n = r.int(2, 5), out: NoteSpec[] = [];
  let t = 0, k = key();
  for (let i = 0; i < n; i++) {
    const step = r.uniform(0.12, 0.6);
    out.push({ key: k, velocity: vel(), at: round3(t), duration: round3(i === n - 1 ? r.uniform(rec.dur[0], rec.dur[1]) : step * r.uniform(0.6, 1)) });
    t += step;
    k = Math.min(rec.keys[1], Math.max(rec.keys[0], k + r.int(-5, 5)));
  }
  return out;
}

function drumNotes(r: Rng, keys: readonly number[]): NoteSpec[] {
  const n = r.pick([1, 1, 1, 2, 2, 3, 4]);
  const out: NoteSpec[] = [];
  let t = 0;
  const key = r.pick(keys);
  for (let i = 0; i < n; i++) {
    out.push({ key: r.float() < 0.8 ? key : r.pick(keys), velocity: r.int(60, 127), at: round3(t), duration: 0.1 });
    t += r.uniform(0.12, 0.5);
  }
  return out;
}

function speechText(r: Rng, label: string): { voice: string; variant: string; text: string } {
  if (label === 'foreign_speech') {
    const voice = r.pick(Object.keys(FOREIGN));
    return { voice, variant: r.pick([...MALE_VARIANTS, ...FEMALE_VARIANTS]), text: r.pick(FOREIGN[voice]) };
  }
  const voice = r.pick(EN_VOICES);
  if (label === 'counting') {
    const a = r.int(0, 6), n = r.int(3, 6);
    return { voice, variant: r.pick([...MALE_VARIANTS, ...FEMALE_VARIANTS]), text: NUMBERS.slice(a, a + n).join(', ') };
  }
  const variant = label === 'male_speech' ? r.pick(MALE_VARIANTS) : label === 'female_speech' ? r.pick(FEMALE_VARIANTS) : r.pick(WHISPER_VARIANTS);
  return { voice, variant, text: r.pick(EN_PHRASES) };
}

/**
 * The full plan for a seed: GM renders per class (program, notes, velocities, durations drawn from the class
 * recipe), drum renders per class (kit, 1-4 hits), espeak-ng renders per speech class (voice, variant, speed,
 * pitch, phrase) and one source per mapped wesnoth file. Each source's parameters come from its own stream
 * hashSeed(seed, id), so adding classes never changes the others.
 */
export function planLibrary(seed: number, opts: PlanOptions = {}): SourceSpec[] {
  const per = opts.perClass ?? 8;
  const perSpeech = opts.perSpeechClass ?? 16;
  const pk = new Set(opts.packages ?? ['gm', 'speech', 'wesnoth']);
  const want = opts.classes ? new Set(opts.classes) : null;
  const ok = (label: string) => !want || want.has(label);
  const out: SourceSpec[] = [];
  if (pk.has('gm')) {
    for (const [label, rec] of Object.entries(GM_RECIPES)) {
      if (!ok(label)) continue;
      const n = label === 'seashore' ? 10 : per; // 10 beds: 1 validation, 1 test, 8 train
      for (let i = 0; i < n; i++) {
        const id = `gm-${label}-${pad(i)}`;
        const r = new Rng(hashSeed(seed, id));
        const [program, bankMSB] = r.pick(rec.programs);
        out.push({ kind: 'gm', id, label, program, bankMSB, notes: gmNotes(r, rec) });
      }
    }
    for (const [label, keys] of Object.entries(DRUM_RECIPES)) {
      if (!ok(label)) continue;
      for (let i = 0; i < per; i++) {
        const id = `drum-${label}-${pad(i)}`;
        const r = new Rng(hashSeed(seed, id));
        out.push({ kind: 'drum', id, label, kit: r.pick(DRUM_KITS), notes: drumNotes(r, keys) });
      }
    }
  }
  if (pk.has('speech')) {
    for (const label of SPEECH_CLASSES) {
      if (!ok(label)) continue;
      for (let i = 0; i < perSpeech; i++) {
        const id = `speech-${label}-${pad(i)}`;
        const r = new Rng(hashSeed(seed, id));
        const t = speechText(r, label);
        out.push({ kind: 'speech', id, label, ...t, speed: r.int(130, 190), pitch: r.int(30, 70) });
      }
    }
  }
  if (pk.has('wesnoth')) {
    for (const f of [...(opts.wesnothFiles ?? [])].sort()) {
      const label = wesnothLabel(f);
      if (!label || !ok(label)) continue;
      // The extension stays in the id: the package has both mace.ogg and mace.wav.
      out.push({ kind: 'wesnoth', id: `wesnoth-${f.replace(/[^a-zA-Z0-9]+/g, '_')}`, label, path: f });
    }
  }
  const ids = new Set<string>();
  for (const s of out) {
    if (ids.has(s.id)) throw new Error(`planLibrary: source id '${s.id}' appears twice`);
    ids.add(s.id);
  }
  return out;
}
