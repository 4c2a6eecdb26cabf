// The official v1-base state_dict keys and shapes under a prefix (spec §12, src/model/checkpoint_keys_v1_base.ts).
import { V1_BASE_KEYS } from '../../src/model/checkpoint_keys_v1_base.ts';

/** key (prefix removed) -> shape, for the keys that start with `prefix`. */
export function officialKeys(prefix: string): Map<string, number[]> {
  return new Map(V1_BASE_KEYS.filter((k) => k.key.startsWith(prefix)).map((k) => [k.key.slice(prefix.length), k.shape.slice()]));
}
