/**
 * What an empty chat shows: what the sidebar is for, example prompts (a click puts one in
 * the prompt box), and the shortcuts.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { el } from './dom';

export function welcomeNode(
  trans: TranslationBundle,
  usePrompt: (prompt: string) => void
): HTMLDivElement {
  const node = el('div', 'jp-TinyAI-welcome');
  node.appendChild(
    el('h2', 'jp-TinyAI-welcome-title', trans.__('TinyAI chat'))
  );
  node.appendChild(
    el(
      'p',
      'jp-TinyAI-welcome-text',
      trans.__(
        'Ask about your code, your data or an error. The model runs on this machine: nothing leaves it. Attach a cell, the selection or the last error with Include.'
      )
    )
  );
  const examples = el('div', 'jp-TinyAI-examples');
  examples.setAttribute('aria-label', trans.__('Example prompts'));
  for (const prompt of [
    trans.__('Explain what this cell does, step by step.'),
    trans.__('Why does this error happen, and how do I fix it?'),
    trans.__('Write a function that loads a CSV file into a pandas DataFrame.')
  ]) {
    const b = el('button', 'jp-TinyAI-example', prompt);
    b.type = 'button';
    b.addEventListener('click', () => usePrompt(prompt));
    examples.appendChild(b);
  }
  node.appendChild(examples);
  const keys = el('dl', 'jp-TinyAI-shortcuts');
  for (const [key, what] of [
    ['Enter', trans.__('send')],
    ['Shift+Enter', trans.__('new line')],
    ['↑', trans.__('last prompt')],
    ['Esc', trans.__('stop the answer')],
    ['Ctrl+Shift+Y', trans.__('open this sidebar')],
    ['Ctrl+Alt+E', trans.__('explain the cell, in the notebook')]
  ]) {
    const dt = el('dt', '');
    dt.appendChild(el('kbd', '', key));
    keys.append(dt, el('dd', '', what));
  }
  node.appendChild(keys);
  return node;
}
