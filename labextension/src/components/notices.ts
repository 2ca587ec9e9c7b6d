/**
 * The server's warnings at the top of the sidebar, a view of Notices (state/notices.ts):
 * one line each, with a button that dismisses it.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { Notices } from '../state/notices';
import { el } from './dom';

export class NoticesView {
  constructor(
    private _notices: Notices,
    private _trans: TranslationBundle
  ) {
    this.node = el('div', 'jp-TinyAI-notices');
    this.node.setAttribute('role', 'status');
    _notices.changed.connect(this._render, this);
    this._render();
  }

  readonly node: HTMLDivElement;

  dispose(): void {
    this._notices.changed.disconnect(this._render, this);
  }

  private _render(): void {
    this.node.textContent = '';
    for (const line of this._notices.lines) {
      const row = el(
        'div',
        'jp-TinyAI-banner jp-TinyAI-banner-warning jp-TinyAI-notice',
        line
      );
      const dismiss = el('button', 'jp-TinyAI-notice-dismiss', '×');
      dismiss.title = this._trans.__('Dismiss');
      dismiss.setAttribute('aria-label', dismiss.title);
      dismiss.addEventListener('click', () => this._notices.dismiss(line));
      row.appendChild(dismiss);
      this.node.appendChild(row);
    }
  }
}
