// Lint: typescript-eslint's recommended rules with type information (the checks tsc alone does
// not make: floating promises, misused promises, unsafe any flowing into typed code...).
// Formatting is Prettier's business, not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'test-artifacts/', '.stack/', 'workflows/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: {
      // Destructuring to leave a field out (`const { secret: _, ...rest } = o`) is how this code omits
      // a field from a copy: the left-out name is not an unused variable.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // Passing on a caught error (typed `unknown`) as a rejection is forwarding, not inventing a
      // non-Error reason; the same allowance `only-throw-error` makes for `throw err` by default.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Tests read JSON answers from the broker, Kubernetes and Temporal and assert on their shape:
    // typing each answer would restate what the assertion checks. `any` stays out of product code.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
