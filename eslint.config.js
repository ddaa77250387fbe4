// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.edgeloop/**', 'models/sample/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // One store boundary: SQL, drivers and dialects stay inside fleet-server/src/store/.
    files: ['fleet-server/src/**/*.ts'],
    ignores: ['fleet-server/src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'better-sqlite3',
              message: 'use the FleetStore (fleet-server/src/store/fleet-store.ts); only store/ talks to a database',
            },
            {
              name: 'pg',
              message: 'use the FleetStore (fleet-server/src/store/fleet-store.ts); only store/ talks to a database',
            },
            {
              name: 'kysely',
              message: 'use the FleetStore (fleet-server/src/store/fleet-store.ts); only store/ builds SQL',
            },
          ],
          patterns: [
            {
              group: [
                'kysely/*',
                'pg-*',
                '**/store/sqlite/*',
                '**/store/postgres/*',
                '**/store/repositories/*',
                '**/store/kysely-fleet-store.js',
                '**/store/schema.js',
                '**/store/sql-dialect.js',
              ],
              message: 'open a store with openFleetStore and use the FleetStore interface',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
