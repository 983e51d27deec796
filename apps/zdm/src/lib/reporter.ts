import type { BatchEvent } from '@zdm/migrations-core';
import { renderProgressBar } from './progress-bar';

/** A stream the CLI writes to; `process.stdout` fits. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Where commands send what they have to say. One implementation per output format. */
export interface Reporter {
  /** A notable step: a job starting, a phase change, gates being waited on. */
  event(name: string, data: Record<string, unknown>, text: string): void;
  /** Progress of a running job, after each batch. */
  progress(job: string, id: string, event: BatchEvent): void;
  /** The final outcome of a command, printed once. */
  result(command: string, exitCode: number, data: Record<string, unknown>, text: string): void;
  /** The final outcome when the command failed. */
  error(command: string, exitCode: number, message: string, details: Record<string, unknown>): void;
}

/** One JSON line: the envelope fields first, and never overridden by the data. */
const jsonLine = (head: Record<string, unknown>, data: Record<string, unknown> = {}) => JSON.stringify({ ...head, ...data, ...head }) + '\n';

/** One JSON object per line on stdout: events, `progress` after every batch, and a final `result`. */
export class JsonReporter implements Reporter {
  constructor(
    private readonly out: OutputStream,
    private readonly now: () => Date = () => new Date(),
  ) {}

  event(name: string, data: Record<string, unknown>, _text?: string): void {
    this.out.write(jsonLine({ event: name, at: this.now().toISOString() }, data));
  }

  progress(job: string, id: string, e: BatchEvent): void {
    this.out.write(
      jsonLine({
        event: 'progress',
        at: this.now().toISOString(),
        id,
        job,
        batch: e.batch,
        done: e.progress.done,
        total: e.progress.total,
        ratePerSec: e.progress.ratePerSec,
        etaSec: e.progress.etaSec,
        written: e.written,
        skipped: e.skipped,
        conflicts: e.conflicts,
        quarantined: e.quarantined,
        latencyMs: e.latencyMs,
        batchSize: e.batchSize,
      }),
    );
  }

  result(command: string, exitCode: number, data: Record<string, unknown>, _text?: string): void {
    this.out.write(jsonLine({ event: 'result', command, ok: exitCode === 0, exitCode }, data));
  }

  error(command: string, exitCode: number, message: string, details: Record<string, unknown>): void {
    this.out.write(jsonLine({ event: 'result', command, ok: false, exitCode, error: message }, details));
  }
}

/** For people: text on stdout, a redrawn progress bar on stderr when it is a terminal. */
export class HumanReporter implements Reporter {
  private barShown = false;
  private lastDraw = 0;

  constructor(
    private readonly out: OutputStream,
    private readonly err: OutputStream,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  event(_name: string, _data: Record<string, unknown>, text: string): void {
    this.endBar();
    this.out.write(text + '\n');
  }

  progress(job: string, id: string, e: BatchEvent): void {
    if (!this.err.isTTY) return;
    const t = this.clock();
    const finished = e.progress.done >= e.progress.total;
    if (this.barShown && !finished && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    this.barShown = true;
    this.err.write(`\r${renderProgressBar(`${id} ${job}`, e.progress, this.err.columns ?? 80)}\x1b[K`);
  }

  result(_command: string, _exitCode: number, _data: Record<string, unknown>, text: string): void {
    this.endBar();
    if (text) this.out.write(text + '\n');
  }

  error(_command: string, _exitCode: number, message: string): void {
    this.endBar();
    this.err.write(`zdm: ${message}\n`);
  }

  private endBar() {
    if (!this.barShown) return;
    this.err.write('\n');
    this.barShown = false;
  }
}
