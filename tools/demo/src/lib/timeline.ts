import type { ChartMarker } from './chart.svg';
import type { Span } from './stats';

/** The service a migration id belongs to: `customers.full-name` → `customers`. */
export const serviceOfMigration = (id: string): string => id.split('.')[0];

/** A phase's name in the report and the chart: `full-name:expand` (the migration id without its service, then the phase). */
export const phaseLabel = (id: string, phase: string): string => `${id.slice(id.indexOf('.') + 1)}:${phase}`;

/**
 * What happened when: the demo's steps (stages), the phases of each service's migrations as one
 * sequence per service without overlaps (services migrate side by side), and markers for single
 * moments (the switch, each fault).
 */
export class Timeline {
  readonly stages: Span[] = [];
  readonly phases: (Span & { migration: string })[] = [];
  readonly markers: ChartMarker[] = [];
  private readonly open = new Map<string, { name: string; migration: string; startedAt: string }>();

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Runs one step of the story, recording its span. */
  async stage<T>(name: string, work: () => Promise<T>): Promise<T> {
    const startedAt = new Date().toISOString();
    this.log(`▶ ${name}`);
    try {
      return await work();
    } finally {
      this.stages.push({ name, startedAt, endedAt: new Date().toISOString() });
    }
  }

  /** The phases open now, one per service, e.g. `customers full-name:backfill`; empty when none. */
  get currentPhases(): string[] {
    return [...this.open].map(([service, p]) => `${service} ${p.name}`).sort();
  }

  /** Enters `phase` of migration `id` at `at`, closing the phase its service had open. Entering the open phase again does nothing. */
  enterPhase(id: string, phase: string, at: string = new Date().toISOString()): void {
    const service = serviceOfMigration(id);
    const name = phaseLabel(id, phase);
    const current = this.open.get(service);
    if (current?.name === name && current.migration === id) return;
    this.closePhase(service, at);
    this.open.set(service, { name, migration: id, startedAt: at });
  }

  /** Ends the phase open for `service` (every service's when none is named) at `at`. */
  closePhase(service?: string, at: string = new Date().toISOString()): void {
    for (const s of service === undefined ? [...this.open.keys()] : [service]) {
      const open = this.open.get(s);
      if (!open) continue;
      // Clocks of different processes may disagree by a few ms: a span never ends before it starts.
      const endedAt = Date.parse(at) < Date.parse(open.startedAt) ? open.startedAt : at;
      this.phases.push({ ...open, endedAt });
      this.open.delete(s);
    }
  }

  /** The phases of one service's migrations, in time order. */
  phasesOf(service: string): (Span & { migration: string })[] {
    return this.phases.filter((p) => serviceOfMigration(p.migration) === service).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  }

  mark(label: string, at: string = new Date().toISOString()): void {
    this.markers.push({ at, label });
  }
}
