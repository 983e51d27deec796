import { execFileSync } from 'node:child_process';
import { blockDone, scriptOf, shellBlocks } from './shell-blocks';

const doc = [
  '# Title',
  '## Step one',
  '```bash',
  'A=1',
  '```',
  'Some text.',
  '```ts',
  'const notShell = 1;',
  '```',
  '## Step two',
  '````sh',
  "echo \"$A\" '```'",
  '````',
].join('\n');

describe('shellBlocks', () => {
  it('finds bash and sh blocks in order with their line and heading, and skips other languages', () => {
    expect(shellBlocks(doc)).toEqual([
      { index: 1, line: 3, heading: 'Step one', code: 'A=1' },
      { index: 2, line: 11, heading: 'Step two', code: "echo \"$A\" '```'" },
    ]);
  });

  it('refuses a fence that is never closed, naming its line', () => {
    expect(() => shellBlocks('text\n```bash\necho hi\n')).toThrow('line 2: a ``` fence is never closed');
  });
});

describe('scriptOf', () => {
  it('runs the blocks in one shell, so a variable set in one is seen by the next', () => {
    const out = execFileSync('bash', ['-c', scriptOf(shellBlocks(doc))], { encoding: 'utf8' });
    expect(out).toBe(`${blockDone(1)}\n1 \`\`\`\n${blockDone(2)}\n`);
  });

  it('stops at the first failing command, before the next marker', () => {
    let out = '';
    try {
      execFileSync('bash', ['-c', scriptOf(shellBlocks('```bash\ntrue\n```\n```bash\nfalse\necho after\n```\n'))], { encoding: 'utf8' });
    } catch (err) {
      out = (err as { stdout: string }).stdout;
    }
    expect(out).toBe(`${blockDone(1)}\n`);
  });
});
