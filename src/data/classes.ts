// The class and caption table of the simulated corpus: every sound in the source library (src/data/sources.ts)
// belongs to one class here, and every event of a mixture gets one caption drawn from its class's phrasings.
// The captions are written by hand for this project (short, 2-13 words, lower case, no final period).
// Browser-safe.
//
// Split rule for open-vocabulary evaluation (see heldOutPhrasings / phrasingsFor):
// - Held-out classes (`heldOut: true`, ~10 % of the event classes, chosen across all groups): their sources are
//   used only in the test split; no training or validation mixture ever contains them.
// - Held-out phrasings: for every other class, the LAST max(1, floor(n/4)) of its n phrasings are used only in
//   test mixtures; training and validation captions come from the first n - max(1, floor(n/4)).
// - In test mixtures an event of a seen class is captioned with a held-out phrasing (novelty 'phrasing'), an event
//   of a held-out class with any of its phrasings (novelty 'class'); validation uses seen phrasings (novelty
//   'seen'), so the three novelty levels can be scored separately.
// Background classes (`role: 'background'`) are only ever used as the low-level bed under a mixture, never as
// labelled events, so no prompt is ever labelled negative where its sound is audible in the bed.

/** Where the sounds of a class come from. */
export type ClassGroup = 'instrument' | 'sfx' | 'drum' | 'speech' | 'recorded' | 'synthetic';

export interface ClassDef {
  /** DCASE event_label (snake_case, unique). */
  label: string;
  group: ClassGroup;
  /** 'event' (labelled foreground) or 'background' (unlabelled bed). */
  role: 'event' | 'background';
  /** Open-vocabulary test class: never in training or validation mixtures. */
  heldOut?: boolean;
  /** Natural phrasings, at least 4; the last max(1, floor(n/4)) are held out for test. */
  captions: readonly string[];
}

const ev = (label: string, group: ClassGroup, captions: string[], heldOut = false): ClassDef =>
  ({ label, group, role: 'event', heldOut: heldOut || undefined, captions });
const bg = (label: string, group: ClassGroup, captions: string[]): ClassDef => ({ label, group, role: 'background', captions });

/** Every class of the real source library (GM synthesis, espeak-ng speech, wesnoth recordings). */
export const CLASSES: readonly ClassDef[] = Object.freeze([
  // --- General MIDI instruments (FluidR3_GM) -------------------------------------------------------------------
  ev('piano', 'instrument', ['a piano being played', 'someone playing notes on a piano', 'piano music', 'the sound of a grand piano', 'a few keys struck on an acoustic piano']),
  ev('electric_piano', 'instrument', ['an electric piano playing', 'mellow electric piano notes', 'a rhodes style keyboard', 'soft electric keyboard chords', 'a vintage electric piano sound']),
  ev('harpsichord', 'instrument', ['a harpsichord being played', 'plucked baroque keyboard notes', 'a bright harpsichord melody', 'someone playing an old harpsichord']),
  ev('glockenspiel', 'instrument', ['a glockenspiel playing', 'bright metallic bell-like notes', 'a celesta playing a tune', 'tinkling glockenspiel tones', 'little chiming bars struck with mallets']),
  ev('music_box', 'instrument', ['a music box playing', 'the delicate tinkle of a music box', 'a wind-up music box melody', 'plinking music box notes']),
  ev('marimba', 'instrument', ['a marimba being played', 'wooden xylophone notes', 'mallets striking a marimba', 'a xylophone tune', 'warm wooden percussion tones']),
  ev('tubular_bells', 'instrument', ['tubular bells ringing', 'a church bell chiming', 'large bells struck', 'a deep bell tolling', 'ringing chimes']),
  ev('organ', 'instrument', ['an organ playing', 'a church organ chord', 'sustained organ tones', 'someone playing a pipe organ', 'an electric organ melody']),
  ev('accordion', 'instrument', ['an accordion playing', 'squeezebox music', 'someone playing an accordion', 'a reedy accordion melody']),
  ev('harmonica', 'instrument', ['a harmonica playing', 'someone blowing into a harmonica', 'a bluesy mouth harp', 'harmonica notes']),
  ev('acoustic_guitar', 'instrument', ['an acoustic guitar being played', 'someone strumming a guitar', 'plucked acoustic guitar strings', 'a nylon string guitar', 'gentle guitar picking']),
  ev('electric_guitar', 'instrument', ['an electric guitar playing', 'clean electric guitar notes', 'a jazzy electric guitar', 'someone playing an electric guitar', 'twangy guitar tones']),
  ev('distorted_guitar', 'instrument', ['a distorted electric guitar', 'heavy rock guitar', 'an overdriven guitar chord', 'a loud crunchy guitar riff', 'a guitar with heavy distortion']),
  ev('bass_guitar', 'instrument', ['a bass guitar playing', 'deep bass notes', 'someone plucking a bass guitar', 'a low thumping bass line', 'electric bass tones']),
  ev('violin', 'instrument', ['a violin playing', 'someone bowing a violin', 'a fiddle melody', 'high bowed string notes', 'a solo violin']),
  ev('cello', 'instrument', ['a cello playing', 'deep bowed strings', 'someone playing the cello', 'a mournful cello note', 'low string instrument being bowed']),
  ev('pizzicato_strings', 'instrument', ['plucked orchestral strings', 'pizzicato strings', 'strings being plucked with fingers', 'short plucked violin notes']),
  ev('harp', 'instrument', ['a harp being played', 'someone plucking harp strings', 'a glissando on a harp', 'gentle harp notes', 'an angelic harp melody'], true),
  ev('timpani', 'instrument', ['timpani drums', 'a kettle drum being struck', 'booming orchestral drums', 'a timpani roll']),
  ev('string_ensemble', 'instrument', ['a string orchestra', 'a section of violins playing together', 'lush orchestral strings', 'a sustained string chord', 'an ensemble of bowed strings']),
  ev('choir', 'instrument', ['a choir singing', 'voices singing ahh together', 'a chorus of singers', 'a group of people humming', 'choral voices']),
  ev('trumpet', 'instrument', ['a trumpet playing', 'someone blowing a trumpet', 'a bright brass melody', 'trumpet notes', 'a muted trumpet']),
  ev('trombone', 'instrument', ['a trombone playing', 'low brass notes', 'someone playing a trombone', 'a tuba blowing', 'a deep brass instrument']),
  ev('french_horn', 'instrument', ['a french horn playing', 'a mellow horn melody', 'warm brass horn notes', 'someone playing a french horn']),
  ev('brass_section', 'instrument', ['a brass section playing', 'several horns playing together', 'a brass band chord', 'punchy brass stabs', 'a fanfare of brass instruments']),
  ev('saxophone', 'instrument', ['a saxophone playing', 'someone playing a sax', 'a smooth jazz saxophone', 'saxophone notes', 'a breathy tenor sax']),
  ev('oboe', 'instrument', ['an oboe playing', 'a double reed woodwind melody', 'nasal oboe notes', 'someone playing an english horn']),
  ev('clarinet', 'instrument', ['a clarinet playing', 'someone playing the clarinet', 'a woody clarinet melody', 'soft clarinet notes']),
  ev('bassoon', 'instrument', ['a bassoon playing', 'low woodwind notes', 'someone playing a bassoon', 'a deep reedy woodwind']),
  ev('flute', 'instrument', ['a flute playing', 'someone playing the flute', 'airy flute notes', 'a piccolo melody', 'a soft flute tune']),
  ev('recorder', 'instrument', ['a recorder playing', 'someone playing a recorder', 'a simple recorder tune', 'thin whistle-like recorder notes']),
  ev('pan_flute', 'instrument', ['a pan flute playing', 'breathy pan pipes', 'someone blowing across pan pipes', 'an andean pan flute melody']),
  ev('whistling', 'instrument', ['someone whistling', 'a person whistling a tune', 'a whistled melody', 'a high clear whistle']),
  ev('ocarina', 'instrument', ['an ocarina playing', 'a soft ocarina melody', 'someone playing an ocarina', 'pure hollow flute tones']),
  ev('synth_lead', 'instrument', ['a synthesizer lead', 'an electronic synth melody', 'a buzzy synth tone', 'a square wave synthesizer', 'retro electronic notes']),
  ev('synth_pad', 'instrument', ['a synth pad', 'a warm electronic chord', 'an ambient synthesizer pad', 'slowly swelling synth tones', 'a dreamy electronic drone']),
  ev('sitar', 'instrument', ['a sitar playing', 'someone playing a sitar', 'twangy indian string instrument', 'sitar notes']),
  ev('banjo', 'instrument', ['a banjo playing', 'someone picking a banjo', 'a bright twangy banjo', 'country banjo notes']),
  ev('bagpipe', 'instrument', ['bagpipes playing', 'a bagpipe drone', 'someone playing the bagpipes', 'a scottish bagpipe melody'], true),
  ev('steel_drum', 'instrument', ['a steel drum playing', 'caribbean steel pan notes', 'someone playing a steel drum', 'bright metallic tropical drum']),
  ev('taiko_drum', 'instrument', ['a taiko drum', 'a huge deep drum hit', 'a booming japanese drum', 'a concert bass drum struck', 'thunderous drum beats']),
  // --- General MIDI sound effects ------------------------------------------------------------------------------
  ev('guitar_fret_noise', 'sfx', ['fingers squeaking on guitar strings', 'guitar string squeak', 'a hand sliding along guitar strings', 'fret noise from a guitar']),
  ev('breathing', 'sfx', ['someone breathing', 'heavy breathing', 'a person inhaling and exhaling', 'breath noise', 'air being blown out']),
  ev('bird_tweet', 'sfx', ['a bird chirping', 'birds tweeting', 'melodic birdsong', 'a small bird singing', 'chirping birds outside']),
  ev('telephone_ring', 'sfx', ['a telephone ringing', 'a phone rings', 'an old phone ringing', 'the ring of a telephone', 'a ringing phone waiting to be answered']),
  ev('helicopter', 'sfx', ['a helicopter flying', 'helicopter rotor blades', 'a chopper passing overhead', 'the whir of a helicopter'], true),
  ev('applause', 'sfx', ['people clapping', 'an audience applauding', 'applause from a crowd', 'a round of applause', 'clapping hands']),
  ev('gunshot', 'sfx', ['a gunshot', 'a gun being fired', 'a single loud shot', 'distant gunfire', 'shots ring out']),
  ev('reverse_cymbal', 'sfx', ['a reversed cymbal swell', 'a rising whoosh of a backwards cymbal', 'a reverse cymbal effect', 'a swelling shimmer that cuts off']),
  // --- GM percussion (channel 10) --------------------------------------------------------------------------------
  ev('kick_drum', 'drum', ['a kick drum', 'a bass drum thump', 'a low drum beat', 'someone hitting a kick drum', 'a deep thud of a drum']),
  ev('snare_drum', 'drum', ['a snare drum', 'a sharp snare hit', 'someone hitting a snare drum', 'a crisp drum snap', 'a rimshot on a snare']),
  ev('hi_hat', 'drum', ['a hi-hat', 'hi-hat cymbal ticks', 'a closed hi-hat', 'someone tapping a hi-hat', 'an open hi-hat sizzle']),
  ev('crash_cymbal', 'drum', ['a cymbal crash', 'a crash cymbal being hit', 'a splashing cymbal', 'a loud cymbal crash', 'a shimmering cymbal']),
  ev('ride_cymbal', 'drum', ['a ride cymbal', 'someone tapping a ride cymbal', 'a ringing ride bell', 'a metallic ping of a cymbal']),
  ev('tom_drum', 'drum', ['a tom drum', 'tom-toms being hit', 'a drum fill on toms', 'a hollow drum hit', 'someone playing tom drums']),
  ev('hand_clap', 'drum', ['a hand clap', 'someone clapping once', 'a single clap', 'hands clapping in rhythm']),
  ev('cowbell', 'drum', ['a cowbell', 'someone hitting a cowbell', 'a clanking cowbell', 'a metallic bell being struck'], true),
  ev('tambourine', 'drum', ['a tambourine', 'someone shaking a tambourine', 'jingling tambourine', 'a tambourine being hit']),
  ev('conga', 'drum', ['conga drums', 'bongos being played', 'a hand drum', 'someone slapping a conga', 'latin hand drums']),
  ev('shaker', 'drum', ['a shaker', 'maracas shaking', 'a rattling shaker', 'someone shaking a rattle', 'a cabasa scraping']),
  ev('triangle', 'drum', ['a triangle', 'someone striking a triangle', 'a ringing triangle', 'a small metal triangle chime']),
  ev('woodblock', 'drum', ['a woodblock', 'a wooden knock', 'claves clicking', 'someone tapping a wood block', 'a hollow wooden tock']),
  ev('referee_whistle', 'drum', ['a whistle blowing', 'a referee whistle', 'a sharp whistle blast', 'someone blowing a whistle']),
  ev('guiro', 'drum', ['a guiro scraping', 'a ratchety scrape', 'someone scraping a guiro', 'a rasping percussion scrape']),
  // --- espeak-ng speech ------------------------------------------------------------------------------------------
  ev('male_speech', 'speech', ['a man speaking', 'a male voice talking', 'a man says something', 'a man talking in english', 'a synthetic male voice reading a sentence']),
  ev('female_speech', 'speech', ['a woman speaking', 'a female voice talking', 'a woman says something', 'a woman talking in english', 'a synthetic female voice reading a sentence']),
  ev('whispering', 'speech', ['someone whispering', 'a whispered voice', 'a person speaking softly in a whisper', 'hushed whispering'], true),
  ev('foreign_speech', 'speech', ['someone speaking a foreign language', 'a voice talking in another language', 'a person speaking german, french, spanish or italian', 'speech in a language other than english']),
  ev('counting', 'speech', ['someone counting out loud', 'a voice counting numbers', 'a person reciting numbers', 'counting from one upwards']),
  // --- wesnoth recorded effects ----------------------------------------------------------------------------------
  ev('man_grunt', 'recorded', ['a man grunting in pain', 'a male grunt', 'a man groans as he is hit', 'a short pained grunt', 'a man gasps in pain']),
  ev('man_scream', 'recorded', ['a man screaming', 'a dying scream', 'a man cries out', 'a male death cry']),
  ev('woman_scream', 'recorded', ['a woman screaming', 'a woman cries out in pain', 'a female scream', 'a woman groans']),
  ev('monster_growl', 'recorded', ['a monster growling', 'a beast roars', 'a deep monstrous grunt', 'an ogre growls', 'a creature snarling']),
  ev('wolf_growl', 'recorded', ['a wolf growling', 'a wolf snarls', 'a dog growling', 'a canine yelp', 'an angry wolf']),
  ev('horse_neigh', 'recorded', ['a horse neighing', 'a horse whinnies', 'a distressed horse', 'the neigh of a horse']),
  ev('horse_gallop', 'recorded', ['a horse galloping', 'hooves clopping', 'a horse trotting by', 'the clatter of horse hooves'], true),
  ev('bat_squeak', 'recorded', ['a bat squeaking', 'high pitched squeaks', 'a small creature squeals', 'squeaking bats', 'wings flapping and squeaking']),
  ev('bird_screech', 'recorded', ['a large bird screeching', 'an eagle cry', 'a loud bird of prey shriek', 'a raptor screams']),
  ev('snake_hiss', 'recorded', ['a snake hissing', 'a loud hiss', 'an angry hissing creature', 'a reptile hisses'], true),
  ev('bones_rattle', 'recorded', ['bones rattling', 'a skeleton clattering', 'dry bones knocking together', 'a hollow rattling clatter']),
  ev('zombie_groan', 'recorded', ['a zombie groaning', 'a ghostly moan', 'an eerie wail', 'an undead creature groans', 'a spooky drawn out moan']),
  ev('sword_slash', 'recorded', ['a sword slashing', 'a blade striking', 'metal swords clashing', 'a knife cutting through the air', 'a sword hit']),
  ev('arrow_shot', 'recorded', ['an arrow being shot', 'a bow firing', 'the twang of a bowstring', 'a crossbow bolt released', 'an arrow hits its target']),
  ev('whoosh', 'recorded', ['a whoosh', 'something swung through the air', 'a fast swoosh', 'a swipe that misses', 'air whooshing past']),
  ev('impact_hit', 'recorded', ['a heavy blow', 'something being struck hard', 'a club hitting a target', 'a punch landing', 'a dull thwack']),
  ev('axe_chop', 'recorded', ['an axe chopping', 'a hatchet striking', 'an axe hitting wood', 'a chopping blow']),
  ev('explosion', 'recorded', ['an explosion', 'a loud blast', 'something blows up', 'a rumbling boom', 'rocks collapsing after a blast']),
  ev('fire_crackle', 'recorded', ['a fire crackling', 'flames roaring', 'a burning torch', 'a crackling campfire', 'a whoosh of fire']),
  ev('thunder', 'recorded', ['rolling thunder', 'a lightning strike', 'a thunderclap', 'a crack of thunder'], true),
  ev('magic_spell', 'recorded', ['a magical shimmering sound', 'a spell being cast', 'a sparkling magic effect', 'a mystical whoosh and chime', 'a fantasy magic sound']),
  ev('horn_signal', 'recorded', ['a horn blowing', 'a hunting horn signal', 'a war horn sounds', 'someone blowing a long horn call', 'a bugle call']),
  ev('splash', 'recorded', ['a wet splash', 'water splashing', 'a squelch of mud', 'a slimy splat', 'liquid splattering']),
  ev('bite', 'recorded', ['an animal biting', 'a chomp', 'jaws snapping shut', 'a vicious bite']),
  ev('coins', 'recorded', ['coins jingling', 'a handful of gold coins', 'money clinking', 'metal coins dropping'], true),
  ev('laughing', 'recorded', ['a man laughing', 'a hearty laugh', 'someone laughs out loud', 'a deep chuckle']),
  // --- backgrounds (never labelled events) -----------------------------------------------------------------------
  bg('seashore', 'sfx', ['waves on a seashore', 'the ocean surf', 'waves crashing on a beach', 'a calm sea']),
  bg('night_ambience', 'recorded', ['crickets at night', 'a quiet night outdoors', 'nighttime insects chirping', 'a still night']),
  bg('ship_ambience', 'recorded', ['a creaking ship at sea', 'the sounds of a wooden ship', 'a boat creaking on the water', 'ship timbers groaning']),
]);

/** Number of held-out (test-only) phrasings of a class with n phrasings: max(1, floor(n / 4)). */
export function heldOutPhrasings(n: number): number {
  return Math.max(1, Math.floor(n / 4));
}

/** Novelty of an event caption: seen class and phrasing, seen class with unseen phrasing, or unseen class. */
export type Novelty = 'seen' | 'phrasing' | 'class';
export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

/**
 * The phrasings an event of class `c` may get in a split, and their novelty (see the file header):
 * train/validation: the seen phrasings (an error for a held-out class); test: the held-out phrasings of a seen
 * class, all phrasings of a held-out class.
 */
export function phrasingsFor(c: ClassDef, split: Split): { captions: readonly string[]; novelty: Novelty } {
  const n = c.captions.length;
  const h = heldOutPhrasings(n);
  if (c.heldOut) {
    if (split !== 'test') throw new Error(`class '${c.label}' is held out: it has no ${split} captions`);
    return { captions: c.captions, novelty: 'class' };
  }
  if (split === 'test') return { captions: c.captions.slice(n - h), novelty: 'phrasing' };
  return { captions: c.captions.slice(0, n - h), novelty: 'seen' };
}

/**
 * Checks a class table: unique labels, snake_case, at least 4 phrasings of 2-13 words, no phrasing shared between
 * two classes or repeated within one, at least one held-out and one seen event class. Throws on the first problem.
 */
export function validateClasses(classes: readonly ClassDef[]): void {
  const labels = new Set<string>();
  const owner = new Map<string, string>();
  for (const c of classes) {
    if (!/^[a-z][a-z0-9_]*$/.test(c.label)) throw new Error(`class label '${c.label}' is not snake_case`);
    if (labels.has(c.label)) throw new Error(`class label '${c.label}' appears twice`);
    labels.add(c.label);
    if (c.captions.length < 4) throw new Error(`class '${c.label}' has ${c.captions.length} phrasings (need >= 4)`);
    for (const p of c.captions) {
      const words = p.trim().split(/\s+/).length;
      if (words < 2 || words > 13) throw new Error(`class '${c.label}': phrasing '${p}' has ${words} words (2-13)`);
      if (p !== p.toLowerCase() || /[.]$/.test(p)) throw new Error(`class '${c.label}': phrasing '${p}' must be lower case without a final period`);
      const prev = owner.get(p);
      if (prev !== undefined) throw new Error(`phrasing '${p}' is used by '${prev}' and '${c.label}'`);
      owner.set(p, c.label);
    }
    if (c.role === 'background' && c.heldOut) throw new Error(`background class '${c.label}' cannot be held out`);
  }
  const events = classes.filter((c) => c.role === 'event');
  if (!events.some((c) => c.heldOut)) throw new Error('no held-out event class');
  if (!events.some((c) => !c.heldOut)) throw new Error('no seen event class');
}

/** label -> class. */
export function classIndex(classes: readonly ClassDef[] = CLASSES): Map<string, ClassDef> {
  return new Map(classes.map((c) => [c.label, c]));
}
