// Lints the SuiteScript that NetSuite runs (src/FileCabinet) with eslint-plugin-suitescript's
// recommended rules (valid @NApiVersion / @NScriptType, entry points present, valid N/ modules with
// their conventional names, the global `log` rather than N/log, log calls with title and details)
// on top of ESLint's own recommended rules. Version 1.x of the plugin: 3.x depends on a package the
// npm registry does not serve, and 1.x rules run on ESLint 9's flat config.
const js = require('@eslint/js');
const globals = require('globals');
const suitescript = require('eslint-plugin-suitescript');

const suitescriptRecommended = suitescript.configs.recommended;

module.exports = [
    {
        files: ['src/FileCabinet/**/*.js'],
        languageOptions: {
            ecmaVersion: 2020,
            sourceType: 'script',
            globals: { ...globals.amd, ...suitescript.environments.suitescript2.globals, log: 'readonly' },
        },
        plugins: { suitescript },
        rules: {
            ...js.configs.recommended.rules,
            ...suitescriptRecommended.rules,
            'no-var': 'error',
            'prefer-const': 'error',
            eqeqeq: ['error', 'always'],
            strict: ['error', 'function'],
        },
    },
];
