import type { ChartMarker } from './chart.svg';
import type { Span } from './stats';

/**
 * What happened when: the demo's steps (stages), the phases of the migrations as one sequence
 * without overlaps, and markers for single moments (the switch, each fault).
 */
export class Timeline {
  readonly stages: Span[] = [];
  readonly phases: (Span & { migration: string })[] = [];
  readonly markers: ChartMarker[] = [];
  private open: { name: string; migration: string; startedAt: string } | null = null;

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

  /** The phase open now, if any. */
  get currentPhase(): string | null {
    return this.open?.name ?? null;
  }

  /** Closes the open phase and opens `name` (of `migration`) at `at`. Entering the open phase again does nothing. */
  enterPhase(name: string, migration: string, at: string = new Date().toISOString()): void {
    if (this.open?.name === name && this.open.migration === migration) return;
    this.closePhase(at);
    this.open = { name, migration, startedAt: at };
  }

  /** Ends the open phase at `at`. */
  closePhase(at: string = new Date().toISOString()): void {
    if (!this.open) return;
    // Clocks of different processes may disagree by a few ms: a span never ends before it starts.
    const endedAt = Date.parse(at) < Date.parse(this.open.startedAt) ? this.open.startedAt : at;
    this.phases.push({ ...this.open, endedAt });
    this.open = null;
  }

  mark(label: string, at: string = new Date().toISOString()): void {
    this.markers.push({ at, label });
  }
}
