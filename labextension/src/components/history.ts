/**
 * The History list of the sidebar, a view of its ConversationList (state/history.ts): the
 * active notebook's conversations, newest first, each to open or delete.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { SidebarModel } from '../state/sidebar';
import { el } from './dom';

export class HistoryView {
  constructor(
    private _model: SidebarModel,
    private _trans: TranslationBundle
  ) {
    this.node = el('div', 'jp-TinyAI-history');
    this.node.hidden = true;
    _model.history.changed.connect(this._render, this);
  }

  readonly node: HTMLDivElement;

  dispose(): void {
    this._model.history.changed.disconnect(this._render, this);
  }

  private _render(): void {
    const trans = this._trans;
    const model = this._model;
    const history = model.history;
    this.node.hidden = !history.open;
    if (history.error !== null) {
      this.node.textContent = history.error;
      return;
    }
    this.node.textContent = '';
    const path = history.notebook;
    this.node.appendChild(
      el(
        'div',
        'jp-TinyAI-history-title',
        path ? trans.__('Conversations of %1', path) : trans.__('Conversations')
      )
    );
    if (history.conversations.length === 0) {
      this.node.appendChild(
        el('div', 'jp-TinyAI-history-empty', trans.__('No conversations yet.'))
      );
    }
    for (const c of history.conversations) {
      const row = el('div', 'jp-TinyAI-history-item');
      row.dataset.id = c.id;
      row.classList.toggle(
        'jp-mod-current',
        c.id === model.chat.conversationId
      );
      const open = el(
        'button',
        'jp-TinyAI-history-open',
        c.title || trans.__('(untitled)')
      );
      open.title = trans.__(
        '%1 messages · %2',
        c.message_count,
        String(c.updated)
      );
      open.addEventListener('click', () => {
        void model.openConversation(c.id);
      });
      const remove = el('button', 'jp-TinyAI-history-delete', '×');
      remove.title = trans.__('Delete this conversation');
      remove.setAttribute('aria-label', remove.title);
      remove.addEventListener('click', () => {
        void model.deleteConversation(c.id);
      });
      row.append(open, remove);
      this.node.appendChild(row);
    }
  }
}
