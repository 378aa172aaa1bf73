// ESLint flat config. The block for src/raft/ is what keeps the consensus core pure:
// it may not read clocks, draw randomness, schedule timers, touch the process or do
// I/O, and it may import nothing from outside src/raft/. Time and randomness are
// injected (tick() and a seeded Rand), so a whole cluster replays from one seed.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureGlobals = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'process',
  'performance',
  'fetch',
  'require',
  'console',
].map((name) => ({
  name,
  message: 'src/raft/ is a pure state machine: time, I/O and scheduling are injected.',
}));

// Only relative imports that stay inside src/raft/: no packages, no node: modules.
function pureImports(outside) {
  return [
    { regex: '^[^.]', message: 'src/raft/ depends on no package and does no I/O.' },
    { group: [`${outside}*`], message: 'src/raft/ imports nothing from outside src/raft/.' },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'src/proto-gen/', 'oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/raft/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...impureGlobals],
      'no-restricted-properties': [
        'error',
        {
          object: 'Date',
          property: 'now',
          message: 'No clocks in src/raft/: time comes from tick().',
        },
        {
          object: 'Math',
          property: 'random',
          message: 'No Math.random in src/raft/: use the injected Rand.',
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: 'No clocks in src/raft/.' },
      ],
      'no-restricted-imports': ['error', { patterns: pureImports('../../') }],
    },
  },
  {
    // Files directly in src/raft/: one '../' already leaves the core.
    files: ['src/raft/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: pureImports('../') }] },
  },
);
