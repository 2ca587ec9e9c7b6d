/**
 * The TinyAI sidebar, a view of a SidebarModel (state/sidebar.ts): model picker, History,
 * the server's notices, messages, what Include will send, the prompt box with Send / Stop,
 * and a status line. Every piece of state lives in the model; this file draws it and turns
 * clicks and keys into calls on it.
 */
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { ChatView } from '../components/chatview';
import { ICodeActions } from '../components/codeactions';
import { el } from '../components/dom';
import { HistoryView } from '../components/history';
import { updateReplaceButtons } from '../components/message';
import { NoticesView, renderBanner } from '../components/notices';
import { welcomeNode } from '../components/welcome';
import { IBanner } from '../model';
import { PickerView } from '../components/picker';
import { SidebarModel } from '../state/sidebar';
import { ContextSource } from '../tokens';

export interface ISidebarOptions {
  model: SidebarModel;
  tracker: INotebookTracker;
  rendermime: IRenderMimeRegistry;
  actions: ICodeActions;
  trans: TranslationBundle;
  /** Opens "Get more models…" (the catalog); the picker's entry of that name calls it. */
  onGetMoreModels?: () => void;
}

export class TinyAISidebar extends Panel {
  constructor(options: ISidebarOptions) {
    super();
    const { model, trans, tracker } = options;
    this.model = model;
    this.onGetMoreModels = options.onGetMoreModels ?? (() => undefined);
    this._trans = trans;
    this._actions = options.actions;
    this.addClass('jp-TinyAI-sidebar');

    // Header: model picker, history, new chat; then the History list, banner, notices.
    const header = el('div', 'jp-TinyAI-header');
    const picker = new PickerView(model.picker, trans, id => {
      void model.pickModel(id);
    });
    const historyButton = el(
      'button',
      'jp-TinyAI-history-button jp-mod-styled',
      trans.__('History')
    );
    historyButton.title = trans.__(
      'Your conversations: this notebook’s and those without one'
    );
    historyButton.addEventListener('click', () => model.toggleHistory());
    const newChat = el(
      'button',
      'jp-TinyAI-new-chat jp-mod-styled',
      trans.__('New chat')
    );
    newChat.title = trans.__('Start a new conversation');
    newChat.addEventListener('click', () => this.newChat());
    header.append(picker.node, historyButton, newChat);
    const history = new HistoryView(model, trans);
    this._banner = el('div', 'jp-TinyAI-banner');
    this._banner.setAttribute('role', 'status');
    this._banner.hidden = true;
    const notices = new NoticesView(model.notices, trans);
    const top = new Widget();
    top.addClass('jp-TinyAI-top');
    top.node.append(header, history.node, this._banner, notices.node);
    this.addWidget(top);

    this._chatView = new ChatView({
      model: model.chat,
      rendermime: options.rendermime,
      actions: options.actions,
      trans,
      showPrompts: true
    });
    const welcome = new Widget({
      node: welcomeNode(trans, prompt => {
        this._input.value = prompt;
        this._input.focus();
      })
    });
    this._welcome = welcome;
    this.addWidget(welcome);
    this.addWidget(this._chatView);

    // Bottom: Include and its preview, prompt, buttons, status line.
    const bottom = new Widget();
    bottom.addClass('jp-TinyAI-bottom');
    // shown over the end of the messages while text arrives below the user's view
    this._jump = el(
      'button',
      'jp-TinyAI-jump jp-mod-styled',
      trans.__('↓ New messages')
    );
    this._jump.type = 'button';
    this._jump.title = trans.__('Scroll to the newest message');
    this._jump.hidden = true;
    this._jump.addEventListener('click', () => this._chatView.scrollToLatest());
    const contextRow = el('div', 'jp-TinyAI-context');
    const contextLabel = el(
      'label',
      'jp-TinyAI-context-label',
      trans.__('Include')
    );
    this._contextSelect = el(
      'select',
      'jp-TinyAI-context-select jp-mod-styled'
    );
    const choices: [ContextSource, string][] = [
      ['none', trans.__('nothing (or the selection)')],
      ['cell', trans.__('the active cell')],
      ['selection', trans.__('the selection')],
      ['error', trans.__('the last error')]
    ];
    for (const [value, label] of choices) {
      const option = el('option', '', label);
      option.value = value;
      this._contextSelect.appendChild(option);
    }
    this._contextSelect.addEventListener('change', () =>
      model.include.setSource(this._contextSelect.value as ContextSource)
    );
    contextLabel.appendChild(this._contextSelect);
    this._summary = el('span', 'jp-TinyAI-context-summary');
    contextRow.append(contextLabel, this._summary);
    // what will be attached: one removable chip per piece
    this._chips = el('div', 'jp-TinyAI-chips');
    this._chips.setAttribute('aria-label', trans.__('Attached to the prompt'));

    this._input = el('textarea', 'jp-TinyAI-input');
    this._input.rows = 3;
    this._input.placeholder = trans.__(
      'Ask about your notebook (Enter to send, Shift+Enter for a new line, ↑ for the last prompt)'
    );
    this._input.setAttribute('aria-label', trans.__('Prompt'));
    this._input.addEventListener('keydown', event => {
      if (event.isComposing) {
        return;
      }
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        this.send();
      } else if (event.key === 'ArrowUp' && !this._input.value) {
        const last = model.lastPrompt;
        if (last) {
          event.preventDefault();
          this._input.value = last;
          this._input.setSelectionRange(last.length, last.length);
        }
      }
    });
    // Escape stops an answer from anywhere in the sidebar
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Escape' && model.chat.busy) {
        event.preventDefault();
        event.stopPropagation();
        this.stop();
      }
    });
    this._input.addEventListener('focus', () => model.include.refresh());
    const buttons = el('div', 'jp-TinyAI-buttons');
    this._sendButton = el(
      'button',
      'jp-TinyAI-send jp-mod-styled jp-mod-accept',
      trans.__('Send')
    );
    this._sendButton.addEventListener('click', () => this.send());
    this._stopButton = el(
      'button',
      'jp-TinyAI-stop jp-mod-styled jp-mod-warn',
      trans.__('Stop')
    );
    this._stopButton.title = trans.__('Stop the answer (Esc)');
    this._stopButton.addEventListener('click', () => this.stop());
    this._hint = el('span', 'jp-TinyAI-hint');
    this._hint.setAttribute('role', 'status');
    this._hint.hidden = true;
    buttons.append(this._hint, this._sendButton, this._stopButton);
    this._status = el('div', 'jp-TinyAI-status');
    bottom.node.append(
      this._jump,
      contextRow,
      this._chips,
      this._input,
      buttons,
      this._status
    );
    this.addWidget(bottom);

    model.chat.changed.connect(this._onChatChanged, this);
    model.include.changed.connect(this._onIncludeChanged, this);
    this._chatView.follow.changed.connect(this._onFollowChanged, this);
    model.status.changed.connect(this._onStatusChanged, this);
    tracker.currentChanged.connect(this._onNotebookChanged, this);
    tracker.activeCellChanged.connect(this._onCellChanged, this);
    tracker.selectionChanged.connect(this._onCellChanged, this);
    this._tracker = tracker;
    this._parts = [picker, history, notices];
    this._onChatChanged();
    this._onCellChanged();
  }

  readonly model: SidebarModel;
  readonly onGetMoreModels: () => void;

  /** Ask what is in the prompt box, with what Include gives. */
  send(): void {
    if (this.model.chat.busy && this._input.value.trim()) {
      // kept in the box, and said why it was not sent
      this._hint.textContent = this._trans.__(
        'An answer is still coming — Esc to stop it'
      );
      this._hint.hidden = false;
      return;
    }
    if (this.model.send(this._input.value)) {
      this._input.value = '';
      this._chatView.scrollToLatest();
    }
  }

  /** Stop the answer; the prompt box gets the focus back. */
  stop(): void {
    this.model.chat.stop();
    this._input.focus();
  }

  newChat(): void {
    this.model.newChat();
    this._input.focus();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    const model = this.model;
    model.chat.changed.disconnect(this._onChatChanged, this);
    model.include.changed.disconnect(this._onIncludeChanged, this);
    model.status.changed.disconnect(this._onStatusChanged, this);
    this._tracker.currentChanged.disconnect(this._onNotebookChanged, this);
    this._tracker.activeCellChanged.disconnect(this._onCellChanged, this);
    this._tracker.selectionChanged.disconnect(this._onCellChanged, this);
    this._selections?.changed.disconnect(this._onSelection, this);
    this._parts.forEach(part => part.dispose());
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.model.refresh();
    this.model.include.refresh();
  }

  protected onActivateRequest(): void {
    this._input.focus();
  }

  private _onNotebookChanged(): void {
    this.model.notebookChanged();
  }

  private _onCellChanged(): void {
    this.model.include.refresh();
    updateReplaceButtons(this.node, this._actions.hasSelection());
    // a selection made in the cell's editor attaches it (Include "nothing" or "the selection")
    const selections = this._tracker.activeCell?.model.selections ?? null;
    if (selections !== this._selections) {
      this._selections?.changed.disconnect(this._onSelection, this);
      this._selections = selections;
      selections?.changed.connect(this._onSelection, this);
    }
  }

  private _onSelection(): void {
    if (this._selectionTimer === null) {
      this._selectionTimer = window.setTimeout(() => {
        this._selectionTimer = null;
        if (!this.isDisposed) {
          this.model.include.refresh();
          updateReplaceButtons(this.node, this._actions.hasSelection());
        }
      }, 100);
    }
  }

  private _onChatChanged(): void {
    const chat = this.model.chat;
    const busy = chat.busy;
    this._sendButton.hidden = busy;
    this._stopButton.hidden = !busy;
    this._stopButton.disabled = chat.phase === 'stopping';
    this.toggleClass('jp-mod-busy', busy);
    const empty = chat.messages.length === 0;
    this._welcome.setHidden(!empty);
    this._chatView.setHidden(empty);
    if (!busy) {
      this._hint.hidden = true;
    }
    this.node.dataset.phase = chat.phase;
    if (chat.banner !== this._shownBanner) {
      this._shownBanner = chat.banner;
      renderBanner(this._banner, chat.banner, this._trans, () =>
        chat.setBanner(null)
      );
    }
  }

  private _onIncludeChanged(): void {
    const include = this.model.include;
    this._contextSelect.value = include.source;
    this._summary.textContent = include.pieces.length ? '' : include.summary;
    this._chips.textContent = '';
    this._chips.hidden = include.pieces.length === 0;
    for (const piece of include.pieces) {
      const chip = el('span', 'jp-TinyAI-chip');
      chip.title = piece.text.slice(0, 400);
      chip.append(el('span', 'jp-TinyAI-chip-label', piece.label));
      const remove = el('button', 'jp-TinyAI-chip-remove', '×');
      remove.type = 'button';
      remove.title = this._trans.__('Do not send %1', piece.label);
      remove.setAttribute('aria-label', remove.title);
      remove.addEventListener('click', () => {
        this.model.include.remove(piece);
        this._input.focus();
      });
      chip.append(remove);
      this._chips.appendChild(chip);
    }
  }

  private _onFollowChanged(): void {
    this._jump.hidden = !this._chatView.follow.unseen;
  }

  private _onStatusChanged(): void {
    const status = this.model.status;
    this._status.textContent = status.text;
    this._status.classList.toggle('jp-mod-error', status.error);
  }

  private _tracker: INotebookTracker;
  private _chatView: ChatView;
  private _welcome: Widget;
  private _actions: ICodeActions;
  private _jump: HTMLButtonElement;
  private _selections: { changed: ISignal<any, any> } | null = null;
  private _selectionTimer: number | null = null;
  private _parts: { dispose(): void }[];
  private _banner: HTMLDivElement;
  private _shownBanner: IBanner | null = null;
  private _contextSelect: HTMLSelectElement;
  private _summary: HTMLSpanElement;
  private _chips: HTMLDivElement;
  private _trans: TranslationBundle;
  private _input: HTMLTextAreaElement;
  private _sendButton: HTMLButtonElement;
  private _hint: HTMLSpanElement;
  private _stopButton: HTMLButtonElement;
  private _status: HTMLDivElement;
}
