import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import projectRules from './eslint-rules/no-import-cycle.cjs';

export default tseslint.config(
  { ignores: ['node_modules/**', '.stack/**', 'dist/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  // The project's own rules are CommonJS, so the config and the rules' unit test can both load them; so are the
  // test environment and sequencer, which jest loads untransformed.
  { files: ['eslint-rules/*.cjs', 'test/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin, project: projectRules },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Not import/no-cycle: it skips type-only imports (eslint-rules/no-import-cycle.cjs says why that matters).
      'project/no-import-cycle': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O modules.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflows are deterministic: no Node built-ins.' },
            {
              group: ['undici/*', 'knex/*', 'pg/*', 'kafkajs/*'],
              message: 'Workflows are deterministic: no I/O modules.',
            },
            {
              group: ['../activities/*', '../adapters/*', '../activities', '../adapters'],
              allowTypeImports: true,
              message: 'Import activities by type only.',
            },
          ],
          paths: [
            // Every Node built-in, as Temporal's samples ban them (node:-prefixed ones by the pattern above)...
            ...builtinModules.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
            // ...and the packages that do I/O.
            ...['undici', 'knex', 'pg', 'kafkajs'].map((name) => ({
              name,
              message: 'Workflows are deterministic: no I/O modules.',
            })),
          ],
        },
      ],
      // A module loaded at run time escapes both the bundler's check and the rule above.
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'Workflows load no module at run time: import it statically.' },
        {
          selector: "CallExpression[callee.name='require']",
          message: 'Workflows load no module at run time: import it statically.',
        },
      ],
    },
  },
);
