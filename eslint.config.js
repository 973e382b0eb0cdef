// Type-aware linting: typescript-eslint's recommended rules, with the ones that catch real bugs in
// this codebase turned up (a promise nobody awaits loses a page's outcome or a commit's error).
// Formatting is Prettier's alone (eslint-config-prettier turns the overlapping rules off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tap/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Unused names are a compile error's job (and `_`-prefixed ones are on purpose).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Fastify plugins are async functions by contract, whether or not they await.
      '@typescript-eslint/require-await': 'off',
      // Values read from JSON, SQL rows and the driver are typed at the edge on purpose (row types).
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // Template literals of numbers and unions are the common case here, and read fine.
      '@typescript-eslint/restrict-template-expressions': 'off',
      // `!` after a lookup the code has just checked is clearer than a second check.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {},
  },
  {
    files: ['test/**/*.test.ts', 'test/store/conformance.ts'],
    rules: {
      // tap's t.test() returns a promise that the runner awaits itself (hundreds of calls, none lost).
      '@typescript-eslint/no-floating-promises': 'off',
      // Tests read fakes' untyped JSON and hold the clients they assert on.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
