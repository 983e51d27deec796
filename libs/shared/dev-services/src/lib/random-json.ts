/** Options of {@link randomJson}. */
export interface RandomJsonOptions {
  /** Keys an object is likely to use; mixed with random and hostile ones. */
  keys?: readonly string[];
  /** Deepest nesting. Default 4. */
  maxDepth?: number;
}

/** Keys that attack a naive handler: operators, prototype keys, dotted paths, odd characters. */
export const HOSTILE_KEYS = ['$where', '$ne', '$gt', '$set', '__proto__', 'constructor', 'prototype', '_id', '_v', '_rev', 'a.b', '', ' ', 'é', '\u0000'];

const HOSTILE_STRINGS = ['', ' ', '   ', '\t', '\u0000', 'a\nb', '$ne', '{"$gt":""}', '🙂', 'x'.repeat(101), 'x'.repeat(5000), 'Ada', 'Mary Ann', ' van der Berg '];
const NUMBERS = [0, -1, 1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -0];

/**
 * A random JSON value built from `random` (use `seededRandom` of this library so a failure can be replayed):
 * scalars of every type, arrays, and objects whose keys mix the expected fields with hostile ones.
 */
export function randomJson(random: () => number, options: RandomJsonOptions = {}, depth = 0): unknown {
  const maxDepth = options.maxDepth ?? 4;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const kind = Math.floor(random() * (depth >= maxDepth ? 5 : 8));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return random() < 0.5 ? pick(NUMBERS) : Math.round((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 100);
    case 3:
      return pick(HOSTILE_STRINGS);
    case 4:
      return randomText(random);
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, options, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      const count = Math.floor(random() * 5);
      for (let i = 0; i < count; i++) {
        const roll = random();
        const key = roll < 0.6 && options.keys?.length ? pick(options.keys) : roll < 0.85 ? pick(HOSTILE_KEYS) : randomText(random);
        // defineProperty, so `__proto__` becomes an own key (as JSON.parse makes it) instead of the prototype.
        Object.defineProperty(out, key, { value: randomJson(random, options, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}

function randomText(random: () => number): string {
  const length = Math.floor(random() * 12);
  let text = '';
  for (let i = 0; i < length; i++) {
    const roll = random();
    text += roll < 0.8 ? String.fromCharCode(32 + Math.floor(random() * 95)) : String.fromCodePoint(Math.floor(random() * 0x2fff));
  }
  return text;
}
