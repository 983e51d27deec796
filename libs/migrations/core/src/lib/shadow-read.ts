import { isDeepStrictEqual } from 'node:util';

/** One read whose two paths disagreed. */
export interface ShadowMismatch<A extends unknown[], T> {
  args: A;
  oldValue?: T;
  newValue?: T;
  /** Set when a path threw instead of answering. */
  error?: unknown;
}

/** Counts since the reader was made (or last reset). */
export interface ShadowReadStats {
  reads: number;
  /** Reads whose answers differed, or whose shadow path threw; this is what the verify report takes. */
  mismatches: number;
  /** Of the mismatches, how many were a throwing shadow path. */
  errors: number;
}

/** Options for {@link shadowRead}. */
export interface ShadowReadOptions<A extends unknown[], T> {
  /** Whose answer callers get. Default `old`: until switch-reads, readers still use the old fields. */
  serve?: 'old' | 'new';
  /** Whether two answers agree. Default: deep equality (key order ignored, dates by time). */
  compare?: (oldValue: T, newValue: T) => boolean;
  /** Called on every mismatch, e.g. to log it or to count it in a metric. */
  onMismatch?: (mismatch: ShadowMismatch<A, T>) => void;
}

/** A read function that also runs the other path and counts disagreements. */
export interface ShadowReader<A extends unknown[], T> {
  (...args: A): Promise<T>;
  readonly stats: Readonly<ShadowReadStats>;
  /** Returns the counts so far and starts counting from zero. */
  reset(): ShadowReadStats;
}

/**
 * Reads through both the old and the new path, serves one answer and compares it with the other,
 * so a service can prove the new fields say what the old ones say before readers switch. The
 * served path's error reaches the caller; the shadow path's error is counted as a mismatch.
 *
 *   const fullName = shadowRead((c) => `${c.firstName} ${c.lastName}`, (c) => c.fullName);
 *   ...
 *   migrator.verify(id, { shadowMismatches: fullName.reset().mismatches });
 */
export function shadowRead<A extends unknown[], T>(
  oldPath: (...args: A) => T | Promise<T>,
  newPath: (...args: A) => T | Promise<T>,
  compareOrOptions?: ((oldValue: T, newValue: T) => boolean) | ShadowReadOptions<A, T>,
): ShadowReader<A, T> {
  const options: ShadowReadOptions<A, T> = typeof compareOrOptions === 'function' ? { compare: compareOrOptions } : (compareOrOptions ?? {});
  const compare = options.compare ?? ((a: T, b: T) => isDeepStrictEqual(a, b));
  const serveNew = options.serve === 'new';
  let stats: ShadowReadStats = { reads: 0, mismatches: 0, errors: 0 };

  const mismatch = (m: ShadowMismatch<A, T>, failed: boolean) => {
    stats.mismatches++;
    if (failed) stats.errors++;
    options.onMismatch?.(m);
  };

  const read = async (...args: A): Promise<T> => {
    const [oldResult, newResult] = await Promise.allSettled([Promise.resolve().then(() => oldPath(...args)), Promise.resolve().then(() => newPath(...args))]);
    stats.reads++;
    const [served, shadow] = serveNew ? [newResult, oldResult] : [oldResult, newResult];
    if (served.status === 'rejected') throw served.reason;
    if (shadow.status === 'rejected') {
      mismatch({ args, [serveNew ? 'newValue' : 'oldValue']: served.value, error: shadow.reason }, true);
    } else {
      const [oldValue, newValue] = serveNew ? [shadow.value, served.value] : [served.value, shadow.value];
      let same: boolean;
      try {
        same = compare(oldValue, newValue);
      } catch (error) {
        mismatch({ args, oldValue, newValue, error }, true);
        return served.value;
      }
      if (!same) mismatch({ args, oldValue, newValue }, false);
    }
    return served.value;
  };

  return Object.defineProperties(read, {
    stats: { get: () => ({ ...stats }) },
    reset: {
      value: () => {
        const before = stats;
        stats = { reads: 0, mismatches: 0, errors: 0 };
        return before;
      },
    },
  }) as ShadowReader<A, T>;
}
