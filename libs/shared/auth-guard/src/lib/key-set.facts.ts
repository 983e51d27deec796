import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { InstanceFacts } from '@zdm/service-defaults';
import { ACCESS_TOKEN_VERIFIER } from './access-token.guard';
import { AccessTokenVerifier } from './access-token.verifier';

/**
 * The instance fact naming the key ids this instance's token verifier holds (`InstanceFacts`): the
 * migration library puts it in the service's heartbeat, and a signing-key rotation waits until every
 * live instance reports the new key id here before the auth hub signs with it.
 */
export const JWKS_KIDS_FACT = 'auth.jwks-kids';

/**
 * Keeps the verifier's remote key set fresh: fetches it once at startup and every
 * `refreshIntervalMs`, so a key the auth hub starts publishing is held before any token carries it;
 * and reports the key ids held as the {@link JWKS_KIDS_FACT} fact when the app has `InstanceFacts`
 * (ServiceDefaultsModule), with the heartbeat sent again each time they change.
 */
@Injectable()
export class KeySetFacts implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('AccessTokenKeys');
  private readonly stops: (() => void)[] = [];
  private failing = false;

  constructor(
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Optional() private readonly facts?: InstanceFacts,
  ) {}

  onModuleInit(): void {
    const facts = this.facts;
    if (facts) {
      this.stops.push(facts.register(JWKS_KIDS_FACT, () => this.verifier.keyIds()));
      this.stops.push(this.verifier.onKeyIdsChange(() => facts.changed()));
    }
    const every = this.verifier.refreshIntervalMs();
    if (every === null) return;
    const timer = setInterval(() => void this.refresh(), every);
    timer.unref();
    this.stops.push(() => clearInterval(timer));
    void this.refresh();
  }

  onApplicationShutdown(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** One background fetch; a failure is logged once until a fetch works again (requests answer 503 meanwhile only without cached keys). */
  private async refresh(): Promise<void> {
    try {
      await this.verifier.refresh();
      if (this.failing) this.log.log('the key set can be fetched again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn(`${(err as Error).message}; keeping the keys held and trying again`);
      this.failing = true;
    }
  }
}
