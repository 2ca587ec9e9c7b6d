/**
 * The server's warnings at the top of the sidebar, a view of Notices (state/notices.ts):
 * one line each, with a button that dismisses it.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IBanner } from '../model';
import { Notices } from '../state/notices';
import { el } from './dom';

/**
 * Draw `banner` into `node`: its short line, a Details toggle when it has details, and a
 * button that dismisses it (`dismiss`).
 */
export function renderBanner(
  node: HTMLElement,
  banner: IBanner | null,
  trans: TranslationBundle,
  dismiss: () => void
): void {
  node.hidden = !banner;
  node.className = `jp-TinyAI-banner jp-TinyAI-banner-${banner?.level ?? 'info'}`;
  node.textContent = '';
  if (!banner) {
    return;
  }
  const line = el('div', 'jp-TinyAI-banner-line');
  line.appendChild(el('span', 'jp-TinyAI-banner-text', banner.text));
  const close = el('button', 'jp-TinyAI-banner-dismiss', '×');
  close.type = 'button';
  close.title = trans.__('Dismiss');
  close.setAttribute('aria-label', close.title);
  close.addEventListener('click', dismiss);
  line.appendChild(close);
  node.appendChild(line);
  if (banner.details && banner.details !== banner.text) {
    const details = el('details', 'jp-TinyAI-banner-details');
    details.append(
      el('summary', '', trans.__('Details')),
      el('div', 'jp-TinyAI-banner-details-text', banner.details)
    );
    node.appendChild(details);
  }
}

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
