// A seedable generator (mulberry32): fault injection and demo data must be repeatable in tests, which
// Math.random cannot be.

export type Rng = () => number;

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SIM_RANDOM_SEED when set, so a run that showed a problem can be replayed; otherwise a fresh seed. */
export function seedFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SIM_RANDOM_SEED;
  if (raw !== undefined && raw !== '') {
    const seed = Number(raw);
    if (!Number.isInteger(seed)) throw new Error(`SIM_RANDOM_SEED must be an integer, got "${raw}"`);
    return seed;
  }
  return Math.floor(Math.random() * 2 ** 31);
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}
