import type { GateResult } from './gates';

/** An instance as a fact gate sees it: from a heartbeat, or from another service's schema report. */
export interface FactReporter {
  instanceId: string;
  build: string;
  /** The facts it reports, by name (see `InstanceHeartbeat.facts`). */
  facts?: Record<string, string[]>;
}

/** Options of {@link factGate}. */
export interface FactGateOptions {
  /** The gate's name, e.g. `verifiers-fetched-new-key`. */
  gate: string;
  /** Whose instances these are, for the detail (a service name). */
  of: string;
  /** The live instances to check. */
  instances: readonly FactReporter[];
  /** The fact each must report. */
  fact: string;
  /** Whether one instance's values satisfy the gate. */
  holds: (values: readonly string[]) => boolean;
  /** What `holds` asks, for the detail: `include k2`. */
  expect: string;
  /** Fewest live instances needed for the gate to hold. Default 0: no instance, nothing to wait for. */
  minInstances?: number;
}

/** `[a, b]`, or `no <fact>` when the instance does not report it. */
function reported(reporter: FactReporter, fact: string): string {
  const values = reporter.facts?.[fact];
  return values ? `${fact} [${values.join(', ')}]` : `no ${fact}`;
}

/**
 * A gate over a fact that instances report in their heartbeats: it holds when every live instance
 * reports `fact` and its values satisfy `holds`. An instance that does not report the fact at all
 * (an older build) holds the gate, and the detail names each instance that holds it and what it reports.
 */
export function factGate(options: FactGateOptions): GateResult {
  const { gate, of, instances, fact, holds, expect } = options;
  const minInstances = options.minInstances ?? 0;
  if (instances.length < minInstances) {
    return { gate, ok: false, detail: `${instances.length} live instance(s) of ${of}, need at least ${minInstances} reporting ${fact} that ${expect}` };
  }
  const failing = instances.filter((i) => !i.facts?.[fact] || !holds(i.facts[fact]));
  if (failing.length === 0) {
    const all = instances.length ? `all ${instances.length} live instance(s) of ${of}` : `no live instance of ${of} (nothing to wait for)`;
    return { gate, ok: true, detail: `${all}: ${fact} ${expect}` };
  }
  return { gate, ok: false, detail: `${of}: ${fact} must ${expect}; not yet: ${failing.map((i) => `${i.instanceId} (${i.build}) reports ${reported(i, fact)}`).join(', ')}` };
}

/** A {@link FactGateOptions.holds} that asks for `value` among the values. */
export const includes = (value: string) => (values: readonly string[]) => values.includes(value);

/** A {@link FactGateOptions.holds} that asks for exactly `value` and nothing else. */
export const isOnly = (value: string) => (values: readonly string[]) => values.length === 1 && values[0] === value;
