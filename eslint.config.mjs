// Lint rules for certflow: correctness first; layout is Prettier's job (`npm run format`,
// settings in .prettierrc.json). `npm run lint` runs this; `npm test` runs it after tsc.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores(['node_modules/', 'data/', '.tools/', 'test-artifacts/', 'coverage/']),

  js.configs.recommended,
  {
    rules: {
      // Prettier breaks lines at 120; this catches what it cannot break (long comments).
      // max-len is deprecated in core but available until ESLint 11.
      'max-len': [
        'error',
        {
          code: 120,
          ignoreUrls: true,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
        },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },

  // TypeScript: the whole tree runs through tsx, type-checked by tsc --noEmit.
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
      // `import { x, type T }` as the tree already writes it: type-only imports vanish from the output.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // A promise nobody awaits loses its error: in a workflow or a route that is a silent failure.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // Non-null assertions state facts the code checked just before (noUncheckedIndexedAccess is on).
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },

  // Plain JavaScript: the browser pages (ES modules, no build step) and the Node entry points.
  {
    files: ['web/static/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['bin/**/*.js', 'test/support/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
]);
