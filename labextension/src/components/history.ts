/**
 * The History list of the sidebar, a view of its ConversationList (state/history.ts): the
 * active notebook's conversations, then those started with no notebook open, newest first,
 * each with its title, when it was last used, and (when titles are alike) its last prompt;
 * each to open or delete, a deletion undoable for a few seconds.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { relativeTime, subtitle } from '../state/history';
import { SidebarModel } from '../state/sidebar';
import { IConversationSummary } from '../tokens';
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
    const history = this._model.history;
    this.node.hidden = !history.open;
    this.node.textContent = '';
    if (history.error !== null) {
      this.node.textContent = history.error;
      return;
    }
    const pending = history.pending;
    if (pending) {
      const bar = el('div', 'jp-TinyAI-history-undo');
      bar.setAttribute('role', 'status');
      bar.appendChild(
        el(
          'span',
          '',
          trans.__('Deleted “%1”.', pending.title || trans.__('(untitled)'))
        )
      );
      const undo = el(
        'button',
        'jp-TinyAI-history-undo-button',
        trans.__('Undo')
      );
      undo.type = 'button';
      undo.addEventListener('click', () => void this._model.undoDelete());
      bar.appendChild(undo);
      this.node.appendChild(bar);
    }
    const path = history.notebook;
    if (path !== null) {
      this._section(
        trans.__('This notebook (%1)', path),
        history.conversations,
        trans.__('No conversations in this notebook yet.')
      );
    }
    if (history.loose.length > 0 || path === null) {
      this._section(
        trans.__('Without a notebook'),
        history.loose,
        trans.__('No conversations yet.')
      );
    }
  }

  private _section(
    heading: string,
    conversations: ReadonlyArray<IConversationSummary>,
    empty: string
  ): void {
    const trans = this._trans;
    const model = this._model;
    const section = el('div', 'jp-TinyAI-history-section');
    section.appendChild(el('div', 'jp-TinyAI-history-title', heading));
    if (conversations.length === 0) {
      section.appendChild(el('div', 'jp-TinyAI-history-empty', empty));
    }
    const now = Date.now();
    for (const c of conversations) {
      const row = el('div', 'jp-TinyAI-history-item');
      row.dataset.id = c.id;
      row.classList.toggle(
        'jp-mod-current',
        c.id === model.chat.conversationId
      );
      const open = el('button', 'jp-TinyAI-history-open');
      open.type = 'button';
      open.appendChild(
        el('span', 'jp-TinyAI-history-name', c.title || trans.__('(untitled)'))
      );
      const sub = subtitle(c, conversations);
      if (sub) {
        open.appendChild(
          el('span', 'jp-TinyAI-history-last', trans.__('last: %1', sub))
        );
      }
      const when = relativeTime(c.updated, now, trans);
      open.appendChild(
        el(
          'span',
          'jp-TinyAI-history-meta',
          trans.__('%1 · %2 messages', when, c.message_count)
        )
      );
      open.title = String(c.updated);
      open.addEventListener('click', () => {
        void model.openConversation(c.id);
      });
      const remove = el('button', 'jp-TinyAI-history-delete', '×');
      remove.type = 'button';
      remove.title = trans.__('Delete this conversation (you can undo it)');
      remove.setAttribute('aria-label', remove.title);
      remove.addEventListener('click', () => {
        void model.deleteConversation(c.id);
      });
      row.append(open, remove);
      section.appendChild(row);
    }
    this.node.appendChild(section);
  }
}
