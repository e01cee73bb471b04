import type { Script } from './script.js';

/**
 * The built-in script (`--script demo`) the quick start, the tests and the demos run against:
 * a three-step calculation, and an answer for a file read (what a fork at the third answer can
 * switch to).
 */
export const DEMO_SCRIPT: Script = {
  model: 'scripted-demo-1',
  seed: 7,
  chunking: { delta_chars: [2, 9], events_per_write: [1, 3], gap_ms: [2, 9], split_every: 4 },
  replies: [
    { when: { after_tool: 'read_file' }, say: 'The file says: {{tool_result.content}}' },
    { when: { turn: 1, user_contains: 'total' }, say: 'First the subtotal: three items at 17.50 each.', calls: [{ name: 'calculator', arguments: { expression: '3 * 17.50' } }] },
    { when: { turn: 2, after_tool: 'calculator' }, say: 'The subtotal is {{tool_result.value}}. Now the 8% tax on it.', calls: [{ name: 'calculator', arguments: { expression: '52.5 * 0.08' } }] },
    { when: { turn: 3, after_tool: 'calculator' }, say: 'Tax is {{tool_result.value}}. Adding it to the subtotal.', calls: [{ name: 'calculator', arguments: { expression: '52.5 + 4.2' } }] },
    { when: { after_tool: 'calculator' }, say: 'The total is {{tool_result.value}}.' },
    { say: 'I can add up an order: ask me for the total of some items with tax.' },
  ],
};
