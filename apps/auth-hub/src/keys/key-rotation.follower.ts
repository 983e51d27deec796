import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InstanceFacts, SERVICE_CONFIG, type ServiceConfig } from '@zdm/service-defaults';
import type { authHubConfig } from '../app/auth-hub.config';
import { HUB_FACTS, keyUseOf, SIGNING_KEY_ROTATION, type KeyRotationState, type KeyRotationStore } from './key-rotation';
import { SigningKey } from './signing-key';

/** Injection token of the {@link KeyRotationStore} the hub reads its phase from. */
export const KEY_ROTATION_STORE = Symbol('auth-hub:KEY_ROTATION_STORE');

/**
 * Makes this hub instance follow the signing-key rotation recorded in the control database: reads
 * it at startup (before the first request) and every KEY_ROTATION_POLL_MS, and signs and publishes
 * what the phase says (`keyUseOf`). Reports its ring, published kids, signing kid and token lifetime
 * as heartbeat facts, which the rotation's gates read. When the phase names a key its ring lacks, or
 * the database cannot be read, it keeps what it did and says why (the gates then hold, naming it).
 */
@Injectable()
export class KeyRotationFollower implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('KeyRotation');
  private timer: NodeJS.Timeout | undefined;
  private readonly stops: (() => void)[] = [];
  private lastProblem = '';

  constructor(
    private readonly key: SigningKey,
    @Inject(KEY_ROTATION_STORE) private readonly store: KeyRotationStore,
    private readonly facts: InstanceFacts,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig<typeof authHubConfig>,
  ) {}

  async onModuleInit(): Promise<void> {
    this.stops.push(
      this.facts.register(HUB_FACTS.ring, () => [...this.key.ring.keys.keys()]),
      this.facts.register(HUB_FACTS.published, () => this.key.published()),
      this.facts.register(HUB_FACTS.signing, () => [this.key.kid]),
      this.facts.register(HUB_FACTS.tokenTtl, () => [String(this.config.ACCESS_TOKEN_TTL_SECONDS)]),
    );
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.config.KEY_ROTATION_POLL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Reads the rotation and follows it. */
  async poll(): Promise<void> {
    let state: KeyRotationState | null;
    try {
      state = await this.store.load(SIGNING_KEY_ROTATION);
    } catch (err) {
      this.problem(`the rotation state cannot be read (${(err as Error).message}); signing with ${this.key.kid} as before`);
      return;
    }
    const use = keyUseOf(state, this.key.ring.defaultKid);
    const before = `${this.key.kid} ${this.key.published().join(',')}`;
    try {
      this.key.follow(use);
    } catch (err) {
      this.problem(`${SIGNING_KEY_ROTATION} is in ${state?.phase} (${state?.from} -> ${state?.to}), but ${(err as Error).message}; signing with ${this.key.kid} as before`);
      return;
    }
    this.lastProblem = '';
    if (`${this.key.kid} ${this.key.published().join(',')}` !== before) {
      this.log.log(`${SIGNING_KEY_ROTATION}${state ? ` in ${state.phase}` : ''}: signing with ${this.key.kid}, publishing ${this.key.published().join(', ')}`);
      this.facts.changed();
    }
  }

  private problem(message: string): void {
    if (message !== this.lastProblem) this.log.error(message);
    this.lastProblem = message;
  }
}
