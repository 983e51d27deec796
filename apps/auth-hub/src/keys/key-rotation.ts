import { AuditLog, factGate, FactReporter, GateResult, HeartbeatStore, includes, InstanceHeartbeat, isOnly, ServiceSchemas } from '@zdm/migrations-core';
import { JWKS_KIDS_FACT } from '@zdm/auth-guard';
import type { KeyUse } from './signing-key';

/** The id the rotation goes by in the control store and the audit log. */
export const SIGNING_KEY_ROTATION = 'auth.signing-key';

/** What every auth-hub instance reports in its heartbeat, besides the token guard's `auth.jwks-kids`. */
export const HUB_FACTS = {
  /** The kids of its key ring (the private keys it holds). */
  ring: 'auth.signing-keys',
  /** The kids its JWKS publishes now. */
  published: 'auth.published-kids',
  /** The kid it signs with now. */
  signing: 'auth.signing-kid',
  /** Its access-token lifetime, in seconds. */
  tokenTtl: 'auth.access-token-ttl',
} as const;

/**
 * The phases of one rotation from key `from` to key `to`, expand/contract:
 * - `expand`: the JWKS publishes both keys; tokens are still signed with `from`.
 * - `switch`: tokens are signed with `to`; both keys stay published, so tokens signed with `from` still verify.
 * - `contract`: `from` is no longer published (every token signed with it has expired).
 * - `complete`: done; `to` is the key in use, and a new rotation may start.
 */
export const ROTATION_PHASES = ['expand', 'switch', 'contract', 'complete'] as const;
export type RotationPhase = (typeof ROTATION_PHASES)[number];

/** The stored state of the rotation; `revision` makes every save a compare-and-set. */
export interface KeyRotationState {
  id: string;
  phase: RotationPhase;
  /** The key signed with before the rotation. */
  from: string;
  /** The key signed with after it. */
  to: string;
  revision: number;
  startedAt: Date;
  /** When every live auth-hub instance was first seen signing with `to`: tokens signed with `from` are all older. */
  switchSeenAt: Date | null;
  updatedAt: Date;
}

/** Where the rotation's state is kept (the auth hub's control database). */
export interface KeyRotationStore {
  load(id: string): Promise<KeyRotationState | null>;
  /** Writes `state` with `revision = expectedRevision + 1`; false when someone else saved first. */
  save(state: KeyRotationState, expectedRevision: number): Promise<boolean>;
}

/** What a hub instance does in each phase: the key it signs with and the keys it publishes. */
export function keyUseOf(state: Pick<KeyRotationState, 'phase' | 'from' | 'to'> | null, defaultKid: string): KeyUse {
  if (!state) return { signing: defaultKid, published: [defaultKid] };
  switch (state.phase) {
    case 'expand':
      return { signing: state.from, published: [state.from, state.to] };
    case 'switch':
      return { signing: state.to, published: [state.from, state.to] };
    case 'contract':
    case 'complete':
      return { signing: state.to, published: [state.to] };
  }
}

/** The next phase, or null after `complete`. */
export function nextRotationPhase(phase: RotationPhase): RotationPhase | null {
  const i = ROTATION_PHASES.indexOf(phase);
  return i < ROTATION_PHASES.length - 1 ? ROTATION_PHASES[i + 1] : null;
}

/** Everything the gates of a rotation look at, gathered right before the check. */
export interface RotationGateInput {
  state: KeyRotationState;
  /** Live heartbeats of the auth hub's own instances. */
  hubs: readonly InstanceHeartbeat[];
  /** Per service that verifies tokens: its live instances (from its schema report) or why it could not be asked. */
  verifiers: ReadonlyMap<string, readonly FactReporter[] | Error>;
  /** The longest access-token lifetime, in seconds (the largest any hub reports or is configured with). */
  maxTokenTtlSeconds: number;
  /** Clock skew verifiers tolerate on `exp`, in seconds. */
  clockToleranceSeconds: number;
  now: Date;
}

/** The gates that must hold to leave the state's phase. Nothing advances on a timer alone. */
export function rotationGates(input: RotationGateInput): GateResult[] {
  const { state, hubs } = input;
  const hub = (gate: string, fact: string, holds: (v: readonly string[]) => boolean, expect: string) =>
    factGate({ gate, of: 'auth-hub', instances: hubs, fact, holds, expect, minInstances: 1 });
  switch (state.phase) {
    case 'expand':
      return [
        hub('hubs-hold-new-key', HUB_FACTS.ring, includes(state.to), `include ${state.to}`),
        hub('hubs-publish-new-key', HUB_FACTS.published, includes(state.to), `include ${state.to}`),
        ...[...input.verifiers].map(([service, instances]) =>
          instances instanceof Error
            ? { gate: `verifiers-fetched-new-key:${service}`, ok: false, detail: `cannot ask ${service} (${instances.message}); holding until it answers` }
            : factGate({ gate: `verifiers-fetched-new-key:${service}`, of: service, instances, fact: JWKS_KIDS_FACT, holds: includes(state.to), expect: `include ${state.to}` }),
        ),
      ];
    case 'switch': {
      const signing = hub('hubs-sign-with-new-key', HUB_FACTS.signing, isOnly(state.to), `be ${state.to}`);
      const waitMs = (input.maxTokenTtlSeconds + input.clockToleranceSeconds) * 1000;
      const expired: GateResult = !state.switchSeenAt
        ? { gate: 'old-tokens-expired', ok: false, detail: `the clock starts once every hub signs with ${state.to}; then ${Math.ceil(waitMs / 1000)} s (the longest access-token lifetime plus clock tolerance)` }
        : oldTokensExpired(state, state.switchSeenAt, waitMs, input.now);
      return [signing, expired];
    }
    case 'contract':
      return [hub('hubs-publish-only-new-key', HUB_FACTS.published, isOnly(state.to), `be ${state.to} alone`)];
    case 'complete':
      return [{ gate: 'not-terminal', ok: false, detail: 'complete is final; start a new rotation' }];
  }
}

function oldTokensExpired(state: KeyRotationState, since: Date, waitMs: number, now: Date): GateResult {
  const until = new Date(since.getTime() + waitMs);
  const leftMs = until.getTime() - now.getTime();
  return leftMs <= 0
    ? { gate: 'old-tokens-expired', ok: true, detail: `every token signed with ${state.from} expired by ${until.toISOString()}` }
    : { gate: 'old-tokens-expired', ok: false, detail: `${Math.ceil(leftMs / 1000)} s left: tokens signed with ${state.from} (until ${since.toISOString()}) may be valid until ${until.toISOString()}` };
}

/** An advance or a start was refused; names each failing gate. */
export class KeyRotationRefusedError extends Error {
  constructor(
    readonly phase: RotationPhase | 'none',
    readonly failing: GateResult[],
  ) {
    super(`Cannot leave ${phase} for ${SIGNING_KEY_ROTATION}; failing gate(s):\n${failing.map((g) => `  - ${g.gate}: ${g.detail}`).join('\n')}`);
    this.name = 'KeyRotationRefusedError';
  }
}

/** Options of {@link KeyRotation}. */
export interface KeyRotationOptions {
  store: KeyRotationStore;
  /** The auth hub's heartbeats (its control store). */
  heartbeats: HeartbeatStore;
  audit: AuditLog;
  /** How the gates ask the services that verify tokens (their schema endpoints). */
  schemas: ServiceSchemas;
  /** The services that verify tokens, as their migrations name them; every live instance of each must hold the new key. */
  verifiers: readonly string[];
  /** The access-token lifetime the operator knows of, in seconds; the gate takes the largest of it and what hubs report. */
  tokenTtlSeconds: number;
  /** Clock skew the verifiers tolerate, in seconds. Default 5 (the guard's default). */
  clockToleranceSeconds?: number;
  /** Default: `Date.now`. */
  now?: () => number;
}

/** What `status` shows. */
export interface KeyRotationStatus {
  state: KeyRotationState | null;
  next: RotationPhase | null;
  gates: GateResult[];
  hubs: { instanceId: string; build: string; facts: Record<string, string[]> }[];
}

/** Who does something and why, for the audit log. */
export interface RotationActor {
  actor: string;
  reason: string;
}

/**
 * The operator's side of a signing-key rotation: starts it and moves it through its phases, each
 * only when its gates hold (on the heartbeats of the hub's instances and of every verifying
 * service's instances), with every change a compare-and-set in the control store and an audit entry.
 * Hub instances follow the stored phase on their own (`KeyRotationFollower`).
 */
export class KeyRotation {
  private readonly now: () => number;

  constructor(private readonly options: KeyRotationOptions) {
    this.now = options.now ?? Date.now;
  }

  async status(): Promise<KeyRotationStatus> {
    const hubs = await this.hubs();
    let state = await this.options.store.load(SIGNING_KEY_ROTATION);
    if (!state || state.phase === 'complete') return { state, next: null, gates: [], hubs: describe(hubs) };
    state = await this.noteSwitch(state, hubs);
    const verifiers = new Map<string, readonly FactReporter[] | Error>();
    if (state.phase === 'expand') {
      await Promise.all(
        this.options.verifiers.map(async (service) => {
          const report = await this.options.schemas.schemaOf(service).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
          verifiers.set(service, report instanceof Error ? report : report.instances);
        }),
      );
    }
    const maxTokenTtlSeconds = Math.max(this.options.tokenTtlSeconds, ...hubs.map((h) => Number(h.facts?.[HUB_FACTS.tokenTtl]?.[0] ?? 0)));
    const gates = rotationGates({ state, hubs, verifiers, maxTokenTtlSeconds, clockToleranceSeconds: this.options.clockToleranceSeconds ?? 5, now: new Date(this.now()) });
    return { state, next: nextRotationPhase(state.phase), gates, hubs: describe(hubs) };
  }

  /**
   * Starts a rotation to the key `to`: every live hub must hold it, and none may be in the middle
   * of another rotation. The phase is `expand`: hubs publish `to` beside the key they sign with.
   */
  async start(to: string, who: RotationActor): Promise<KeyRotationState> {
    const current = await this.options.store.load(SIGNING_KEY_ROTATION);
    if (current && current.phase !== 'complete') {
      throw new KeyRotationRefusedError('none', [{ gate: 'no-rotation-running', ok: false, detail: `a rotation ${current.from} -> ${current.to} is in ${current.phase}; finish it first` }]);
    }
    const hubs = await this.hubs();
    const signing = [...new Set(hubs.map((h) => h.facts?.[HUB_FACTS.signing]?.join(',') ?? '(none)'))];
    const gates = [
      factGate({ gate: 'hubs-hold-new-key', of: 'auth-hub', instances: hubs, fact: HUB_FACTS.ring, holds: includes(to), expect: `include ${to}`, minInstances: 1 }),
      { gate: 'hubs-agree-on-current-key', ok: signing.length === 1 && signing[0] !== to && !signing[0].includes(','), detail: `live hubs sign with ${signing.join(' / ') || 'nothing'}${signing[0] === to ? ` (already ${to})` : ''}` },
    ];
    const failing = gates.filter((g) => !g.ok);
    if (failing.length) throw new KeyRotationRefusedError('none', failing);
    const at = new Date(this.now());
    const state: KeyRotationState = { id: SIGNING_KEY_ROTATION, phase: 'expand', from: signing[0], to, revision: current?.revision ?? 0, startedAt: at, switchSeenAt: null, updatedAt: at };
    await this.save(state, current?.revision ?? 0);
    await this.audit(who, 'rotation-start', { from: state.from, to, phase: 'expand' });
    return { ...state, revision: state.revision + 1 };
  }

  /** Leaves the current phase for the next when every gate holds; {@link KeyRotationRefusedError} otherwise. */
  async advance(who: RotationActor): Promise<KeyRotationState> {
    const { state, next, gates } = await this.status();
    if (!state) throw new KeyRotationRefusedError('none', [{ gate: 'rotation-started', ok: false, detail: 'no rotation is recorded; start one with the new key id' }]);
    const failing = gates.filter((g) => !g.ok);
    if (!next || failing.length) throw new KeyRotationRefusedError(state.phase, failing.length ? failing : [{ gate: 'not-terminal', ok: false, detail: 'complete is final' }]);
    const moved = { ...state, phase: next, updatedAt: new Date(this.now()) };
    await this.save(moved, state.revision);
    await this.audit(who, 'phase', { from: state.phase, to: next, gates: gates.map((g) => `${g.gate}: ${g.detail}`) });
    return { ...moved, revision: state.revision + 1 };
  }

  private async hubs(): Promise<InstanceHeartbeat[]> {
    return (await this.options.heartbeats.live(new Date(this.now()))).filter((h) => h.service === 'auth-hub');
  }

  /**
   * Records when every live hub was first seen signing with the new key: the old key's tokens are
   * all older. When a hub is seen signing with another key again (one that joined late, or an older
   * build), the record is dropped, so the clock starts again once every hub signs with the new key.
   */
  private async noteSwitch(state: KeyRotationState, hubs: readonly InstanceHeartbeat[]): Promise<KeyRotationState> {
    if (state.phase !== 'switch') return state;
    const signing = factGate({ gate: 'hubs-sign-with-new-key', of: 'auth-hub', instances: hubs, fact: HUB_FACTS.signing, holds: isOnly(state.to), expect: `be ${state.to}`, minInstances: 1 });
    if (signing.ok === !!state.switchSeenAt) return state;
    const now = new Date(this.now());
    const next = { ...state, switchSeenAt: signing.ok ? now : null, updatedAt: now };
    if (!(await this.options.store.save(next, state.revision))) return (await this.options.store.load(SIGNING_KEY_ROTATION)) ?? state;
    const [action, reason] = signing.ok ? ['switch-seen', 'every live hub signs with the new key'] : ['switch-lost', `a hub signs with another key again: ${signing.detail}`];
    await this.audit({ actor: 'zdm', reason }, action, { to: state.to, hubs: hubs.map((h) => h.instanceId) });
    return { ...next, revision: state.revision + 1 };
  }

  private async save(state: KeyRotationState, expectedRevision: number): Promise<void> {
    if (!(await this.options.store.save(state, expectedRevision))) {
      throw new Error(`${SIGNING_KEY_ROTATION} was changed by someone else meanwhile (revision ${expectedRevision}); read status and try again`);
    }
  }

  private async audit(who: RotationActor, action: string, details: Record<string, unknown>): Promise<void> {
    await this.options.audit.append({ migrationId: SIGNING_KEY_ROTATION, at: new Date(this.now()), actor: who.actor, action, reason: who.reason, details });
  }
}

function describe(hubs: readonly InstanceHeartbeat[]) {
  return hubs.map((h) => ({ instanceId: h.instanceId, build: h.build, facts: h.facts ?? {} }));
}
