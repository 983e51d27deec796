import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from './cli';
import { EXIT_CODES_HELP, ExitCode } from './lib/exit-codes';
import { memoryStream } from './testing/streams.fixture';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const section = (title: string) => readme.split(`## ${title}`)[1].split('\n## ')[0];
const tableRows = (text: string) => text.split('\n').filter((l) => /^\| [^-]/.test(l)).slice(1).map((l) => l.split('|').map((c) => c.trim()));

describe('README', () => {
  it('documents the same exit codes as --help and the code', () => {
    const rows = tableRows(section('Exit codes'));
    expect(rows.map((r) => Number(r[1]))).toEqual(Object.values(ExitCode));
    for (const [, code, meaning] of rows) {
      // The README may add a hint in parentheses; the rest must read as in --help.
      expect(EXIT_CODES_HELP).toContain(`  ${code}  ${meaning.replace(/ \(set .*\)$/, '')}`);
    }
  });

  it('documents every command the program has, and no other', () => {
    const documented = tableRows(section('Commands'))
      .flatMap((r) => r[1].split(' / '))
      .map((c) => c.replace(/`/g, '').split(' <')[0].split(' [')[0]);
    const program = buildProgram({ stdout: memoryStream(), stderr: memoryStream(), env: {} }, async () => undefined);
    const actual = program.commands.flatMap((c) => (c.commands.length ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()]));
    expect(documented.sort()).toEqual(actual.sort());
  });
});
