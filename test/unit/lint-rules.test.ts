import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ESLint } from 'eslint';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';

// The project's own lint rule (eslint-rules/no-import-cycle.cjs): a cycle made of type-only imports is one too.

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the rule is CommonJS, as ESLint plugins may be
const projectRules = require('../../eslint-rules/no-import-cycle.cjs') as ESLint.Plugin;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lint-cycle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function lint(files: Record<string, string>, file: string): string[] {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const linter = new Linter({ configType: 'flat', cwd: dir });
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
      plugins: { project: projectRules },
      rules: { 'project/no-import-cycle': 'error' },
    },
  ];
  return linter.verify(files[file] as string, config, path.join(dir, file)).map((m) => m.message);
}

test('a cycle of type-only imports is reported, with the chain', () => {
  const files = {
    'workflow.ts': "import type { Activities } from './activities';\nexport type Input = { a: Activities };\n",
    'activities.ts': "import type { Client } from './client';\nexport type Activities = { c: Client };\n",
    'client.ts': "import type { Input } from './workflow';\nexport type Client = { i: Input };\n",
  };
  expect(lint(files, 'workflow.ts')).toEqual([
    'Import cycle (type imports count too): workflow.ts -> activities.ts -> client.ts -> workflow.ts',
  ]);
});

test('imports that do not lead back are fine, and so are packages', () => {
  const files = {
    'workflow.ts': "import type { Activities } from './activities';\nimport { z } from 'zod';\nexport const s = z;\n",
    'activities.ts': "export * from './messages';\nexport type Activities = { n: number };\n",
    'messages.ts': 'export type Message = string;\n',
  };
  expect(lint(files, 'workflow.ts')).toEqual([]);
  expect(lint(files, 'activities.ts')).toEqual([]);
});
