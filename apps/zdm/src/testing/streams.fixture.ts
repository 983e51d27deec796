import { OutputStream } from '../lib/reporter';

/** An output stream that keeps what was written; `onWrite` lets a test react to a line. */
export function memoryStream(isTTY = false, onWrite?: (chunk: string) => void): OutputStream & { chunks: string[]; text(): string } {
  const chunks: string[] = [];
  return {
    chunks,
    isTTY,
    columns: 80,
    write(chunk: string) {
      chunks.push(chunk);
      onWrite?.(chunk);
      return true;
    },
    text: () => chunks.join(''),
  };
}
