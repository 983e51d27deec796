import { Injectable } from '@nestjs/common';

/** Reads one fact now: a list of strings (e.g. the key ids a token verifier holds). */
export type InstanceFactReader = () => readonly string[];

/**
 * Facts this instance reports about itself, by name, beside its flags and schemas: the migration
 * library puts them in the instance's heartbeat (`InstanceHeartbeat.facts`), where gates read them.
 * Any module can contribute one, as with readiness checks, and calls {@link changed} when its value
 * changes, so the heartbeat goes out at once instead of at the next interval:
 *
 * ```ts
 * onModuleInit() {
 *   this.facts.register('auth.jwks-kids', () => this.verifier.keyIds());
 * }
 * ```
 */
@Injectable()
export class InstanceFacts {
  private readonly readers = new Map<string, InstanceFactReader>();
  private readonly listeners = new Set<() => void>();

  /** Adds a fact under a unique `name`; returns a function that removes it again. */
  register(name: string, read: InstanceFactReader): () => void {
    if (this.readers.has(name)) throw new Error(`An instance fact named "${name}" is already registered`);
    this.readers.set(name, read);
    this.changed();
    return () => {
      if (this.readers.get(name) !== read) return;
      this.readers.delete(name);
      this.changed();
    };
  }

  /** Every fact, read now; a reader that throws is left out rather than failing the heartbeat. */
  snapshot(): Record<string, string[]> {
    const facts: Record<string, string[]> = {};
    for (const [name, read] of this.readers) {
      try {
        facts[name] = [...read()];
      } catch {
        // Reported as absent: a gate waiting for it holds.
      }
    }
    return facts;
  }

  /** Says that a fact may have changed; listeners (the heartbeat) are called at once. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` on every {@link changed}; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
