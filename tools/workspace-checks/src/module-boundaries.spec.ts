import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The boundary rule must bite: these snippets are linted as if they were files inside real
 * projects of this workspace, and each forbidden import must be reported.
 */
const root = join(__dirname, '../../..');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** Runs the ESLint CLI (in its own process: it loads ESM config) on `code` as if it were that file. */
async function boundaryErrors(fileInWorkspace: string, code: string): Promise<string[]> {
  let out: string;
  try {
    out = execFileSync(
      process.execPath,
      [join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', '--stdin', '--stdin-filename', join(root, fileInWorkspace)],
      { cwd: root, input: code, encoding: 'utf8' },
    );
  } catch (err) {
    // ESLint exits 1 when it reports errors; the JSON report is still on stdout.
    out = (err as { stdout: string }).stdout;
  }
  const [result] = JSON.parse(out) as { messages: LintMessage[] }[];
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  jest.setTimeout(60_000);

  it('rejects a customers library importing an orders library', async () => {
    const errors = await boundaryErrors(
      'libs/customers/domain/src/lib/probe.ts',
      "import { orderTotalCents } from '@zdm/orders-domain';\nexport const t = orderTotalCents([]);\n",
    );
    expect(errors.join('\n')).toMatch(/scope:customers/);
  });

  it("rejects orders' customers client importing customers' own code (it knows customers only through its API)", async () => {
    const errors = await boundaryErrors(
      'libs/orders/customers-client/src/lib/probe.ts',
      "import { joinFullName } from '@zdm/customers-domain';\nexport const j = joinFullName;\n",
    );
    expect(errors.join('\n')).toMatch(/scope:orders/);
  });

  it('rejects the migration library importing a service library', async () => {
    const errors = await boundaryErrors(
      'libs/migrations/mongo/src/lib/probe.ts',
      // orders' client of the customers API: a service library that does not itself depend on the migration library.
      "import { CustomersClient } from '@zdm/orders-customers-client';\nexport const c = CustomersClient;\n",
    );
    expect(errors.join('\n')).toMatch(/scope:migrations/);
  });

  it('rejects a domain library importing a data-access library', async () => {
    const errors = await boundaryErrors(
      'libs/orders/domain/src/lib/probe.ts',
      "import * as mongo from '@zdm/migrations-mongo';\nexport const m = mongo;\n",
    );
    expect(errors.join('\n')).toMatch(/type:domain/);
  });

  it('rejects a library importing an application (apps have no alias, and paths into a project are refused)', async () => {
    const errors = await boundaryErrors(
      'libs/migrations/nest/src/lib/probe.ts',
      "import '../../../../../apps/zdm/src/main';\n",
    );
    expect(errors.join('\n')).toMatch(/relative or absolute path|apps are forbidden/);
  });

  it('accepts a service library importing the shared migration library', async () => {
    const errors = await boundaryErrors(
      'libs/customers/domain/src/lib/probe.ts',
      "import { defineMigration } from '@zdm/migrations-core';\nexport const d = defineMigration;\n",
    );
    expect(errors).toEqual([]);
  });
});
