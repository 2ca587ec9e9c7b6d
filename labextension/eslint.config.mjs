// The JupyterLab extension template's ESLint configuration (eslint 9, typescript-eslint 8,
// @jupyter/eslint-plugin, Prettier as a rule), linting the Jest tests too.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import prettierRecommended from 'eslint-plugin-prettier/recommended';
import globals from 'globals';
import jupyterPlugin from '@jupyter/eslint-plugin';

export default defineConfig([
  {
    ignores: ['node_modules', 'lib', 'coverage', '**/*.js', '**/*.d.ts', 'ui-tests']
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: {
      jupyter: jupyterPlugin
    }
  },
  jupyterPlugin.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      globals: {
        ...globals.browser,
        ...globals.es2015,
        ...globals.node
      },
      parserOptions: {
        project: 'tsconfig.json',
        sourceType: 'module'
      }
    },
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: {
            regex: '^I[A-Z]',
            match: true
          }
        }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off',
      // activate() adds the sidebar to the shell and registers the commands (their
      // shortcuts and menu items) at once, so these modules are needed at startup
      'jupyter/prefer-lazy-imports': [
        'warn',
        {
          ignoreImports: [
            './catalog',
            './commands',
            './model',
            './request',
            './state/sidebar',
            './widgets/sidebar'
          ]
        }
      ],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  },
  {
    // the Jest tests are compiled with their own tsconfig (jest and node types)
    files: ['src/__tests__/**/*.ts'],
    languageOptions: {
      parserOptions: {
        project: 'tsconfig.test.json'
      }
    },
    rules: {
      // test data (context labels, titles) is not shown to a user
      'jupyter/no-untranslated-string': 'off'
    }
  },
  prettierRecommended
]);
