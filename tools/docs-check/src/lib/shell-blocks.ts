/** One fenced shell block of a markdown document. */
export interface ShellBlock {
  /** 1-based, in document order. */
  index: number;
  /** Line of the opening fence, 1-based. */
  line: number;
  /** The nearest heading above the block, for messages. */
  heading: string;
  code: string;
}

/** Every ```bash (or ```sh) block of `markdown`, in order. Other fences (```ts, ```text...) are skipped. */
export function shellBlocks(markdown: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6}\s+(.*)$/.exec(lines[i]);
    if (h) heading = h[1].trim();
    const open = /^(`{3,}|~{3,})\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith(fence); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`line ${start + 1}: a ${fence} fence is never closed`);
    if (open[2] === 'bash' || open[2] === 'sh') blocks.push({ index: blocks.length + 1, line: start + 1, heading, code: body.join('\n') });
  }
  return blocks;
}

/** Marker printed after block `index` ran to the end. */
export const blockDone = (index: number): string => `::docs-check block ${index} done::`;

/**
 * One bash script running every block in order in the same shell (variables and functions carry
 * over, as they do for a reader typing them into one terminal), stopping at the first command that
 * fails, and printing a marker after each block.
 */
export function scriptOf(blocks: readonly ShellBlock[]): string {
  const parts = ['set -eo pipefail'];
  for (const b of blocks) {
    parts.push(`# --- block ${b.index} (line ${b.line}, "${b.heading}")`, b.code, `echo '${blockDone(b.index)}'`);
  }
  return parts.join('\n') + '\n';
}
