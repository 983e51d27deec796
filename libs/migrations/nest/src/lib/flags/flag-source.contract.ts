import { Logger } from '@nestjs/common';
import { MigrationDefinition, flagsForPhase } from '@zdm/migrations-core';

/** Flag values by name, as an instance sees them right now. */
export type FlagSnapshot = Record<string, boolean>;

/** Called after one or more flag values changed, with the new values and the names that changed. */
export type FlagChangeListener = (snapshot: FlagSnapshot, changed: string[]) => void;

/**
 * Where a service reads its migration flags. Reads are synchronous and never fail: a source
 * answers from memory (last-known values, else safe defaults) whatever its backend is doing.
 */
export interface FlagSource {
  isEnabled(name: string): boolean;
  /** Every flag the source tracks, with its current value. */
  snapshot(): FlagSnapshot;
  /** Subscribes to value changes; returns the function that unsubscribes. */
  onChange(listener: FlagChangeListener): () => void;
  /** Resolves true once values came from the backend, false if that did not happen within `timeoutMs`. */
  ready?(timeoutMs: number): Promise<boolean>;
  /** Stops background work (polling). Values stay readable. */
  close?(): void | Promise<void>;
}

/**
 * The oldest, safest value of every flag of these migrations: the values of the `pending` phase
 * (write-new off, read-new off, write-old on). A service that never reached its flag server uses them.
 */
export function safeFlagDefaults(defs: readonly MigrationDefinition[]): FlagSnapshot {
  return Object.assign({}, ...defs.map((def) => flagsForPhase(def, 'pending')));
}

/**
 * Flag values held in memory, with change notification. Both flag sources keep their values here;
 * `update` only notifies when a value really changed.
 */
export class FlagValues {
  private static readonly log = new Logger('FlagValues');
  private values: FlagSnapshot;
  private readonly listeners = new Set<FlagChangeListener>();

  constructor(initial: FlagSnapshot) {
    this.values = { ...initial };
  }

  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.values, name);
  }

  get(name: string): boolean {
    return this.values[name] === true;
  }

  snapshot(): FlagSnapshot {
    return { ...this.values };
  }

  onChange(listener: FlagChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies new values; returns the names whose value changed (and tells the listeners). */
  update(next: FlagSnapshot): string[] {
    const changed = Object.keys(next).filter((name) => this.values[name] !== next[name]);
    if (changed.length === 0) return changed;
    this.values = { ...this.values, ...next };
    const snapshot = this.snapshot();
    for (const listener of [...this.listeners]) {
      try {
        listener(snapshot, changed);
      } catch (err) {
        // One faulty listener must not keep the others (or the source) from seeing the change.
        FlagValues.log.error(`flag change listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return changed;
  }
}
