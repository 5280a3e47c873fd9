// Lint gates: type-aware promise rules as errors, zero warnings, and Nx module boundaries that
// forbid a service importing another service (or any app importing tooling).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', '.nx/**', 'coverage/**', 'test-artifacts/**', '**/public/**', '**/*.js', '**/*.mjs', '**/*.cjs'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:ingest', onlyDependOnLibsWithTags: ['scope:ingest', 'scope:shared'] },
            { sourceTag: 'scope:transcoder', onlyDependOnLibsWithTags: ['scope:transcoder', 'scope:shared'] },
            { sourceTag: 'scope:viewer-api', onlyDependOnLibsWithTags: ['scope:viewer-api', 'scope:shared'] },
            { sourceTag: 'scope:event-gateway', onlyDependOnLibsWithTags: ['scope:event-gateway', 'scope:shared'] },
            { sourceTag: 'scope:operator', onlyDependOnLibsWithTags: ['scope:operator', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:tooling', onlyDependOnLibsWithTags: ['scope:tooling', 'scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    // Tests, scripts and benchmarks may print and may use tooling libs.
    files: ['**/*.spec.ts', 'test/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Handlers passed to kafkajs/socket.io must return promises even when a test's body is sync.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
