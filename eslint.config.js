// ESLint 9 flat config with typescript-eslint typed linting (the type checker backs the rules).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      '.gpu-kit/',
      'gpu-worker/training/',
      'models/',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Template literals with numbers are everywhere in messages; they are fine.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
    },
  },
  // Dependencies point one way: core/ knows no deployment; the API (a Lambda bundle) never
  // reaches onnxruntime. docs/architecture.md ("Where things are") draws the layers.
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(gpu-worker|functions|bin|infra)/',
              message: 'core/ imports nothing above it (ports and adapters only).',
            },
            {
              regex: '^(onnxruntime-node|koffi|sharp)$',
              message: 'core/ runs no models and encodes no images.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['functions/**/*.ts'],
    ignores: ['functions/local/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)gpu-worker/src/(sampler|worker|runner)/',
              message:
                'The API and the Lambdas see models only through gpu-worker/src/model-contract (no onnxruntime in a Lambda bundle).',
            },
            {
              regex: '^(onnxruntime-node|koffi)$',
              message: 'No onnxruntime (nor its native runner) in a Lambda bundle.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['gpu-worker/src/model-contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(onnxruntime-node|koffi)$|/runner/',
              message: 'The model contract is onnxruntime-free.',
            },
            {
              regex:
                '/sampler/(index|execution|model|open-model|components|generate|encode|png|pixels|guidance)\\.ts$',
              message:
                'These sampler files load onnxruntime; the contract takes only the onnxruntime-free ones.',
            },
          ],
        },
      ],
    },
  },
  // The client and the webhook verifier run in browsers and edge runtimes and bundle nothing of
  // the server: web APIs only, the server's schemas and events as types only (docs/client.md).
  {
    files: ['sdk/client/**/*.ts', 'sdk/webhooks/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(core|functions|gpu-worker|bin|infra)/',
              allowTypeImports: true,
              message: 'The SDK takes only types from the server (import type).',
            },
            {
              regex: '^(zod|@hono/zod-openapi|hono)$',
              allowTypeImports: true,
              message: 'The SDK bundles no zod or Hono (import type).',
            },
            {
              regex: '^(node:|(buffer|crypto|fs|http|https|net|os|path|stream|url|util)$)',
              message: 'fetch and web APIs only: the SDK runs in browsers and edge runtimes.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.{1,2}/',
              message:
                'Examples import ditserve/client and ditserve/webhooks by name, as users do.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
