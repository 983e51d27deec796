import type { MigrationDefinition } from '@zdm/migrations-core';
import { FlagChangeListener, FlagSnapshot, FlagSource, FlagValues, safeFlagDefaults } from './flag-source.contract';

/**
 * Flags held in process memory and changed by code: for tests, dev and services without a flag
 * server. Unknown flags read as off.
 */
export class StaticFlagSource implements FlagSource {
  private readonly values: FlagValues;

  constructor(initial: FlagSnapshot = {}) {
    this.values = new FlagValues(initial);
  }

  /** The safe defaults of these migrations' flags, with `overrides` on top. */
  static withSafeDefaults(defs: readonly MigrationDefinition[], overrides: FlagSnapshot = {}): StaticFlagSource {
    return new StaticFlagSource({ ...safeFlagDefaults(defs), ...overrides });
  }

  isEnabled(name: string): boolean {
    return this.values.get(name);
  }

  snapshot(): FlagSnapshot {
    return this.values.snapshot();
  }

  onChange(listener: FlagChangeListener): () => void {
    return this.values.onChange(listener);
  }

  /** Sets one flag; listeners hear of it only if the value changed. */
  set(name: string, enabled: boolean): void {
    this.values.update({ [name]: enabled });
  }

  /** Sets several flags at once (one change notification). */
  setAll(values: FlagSnapshot): void {
    this.values.update(values);
  }

  async ready(): Promise<boolean> {
    return true;
  }
}
