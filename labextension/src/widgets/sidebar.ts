/**
 * The TinyAI sidebar, a view of a SidebarModel (state/sidebar.ts): model picker, History,
 * the server's notices, messages, what Include will send, the prompt box with Send / Stop,
 * and a status line. Every piece of state lives in the model; this file draws it and turns
 * clicks and keys into calls on it.
 */
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';

import { ChatView } from '../components/chatview';
import { ICodeActions } from '../components/codeactions';
import { el } from '../components/dom';
import { HistoryView } from '../components/history';
import { NoticesView } from '../components/notices';
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
    historyButton.title = trans.__('Conversations of this notebook');
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

    this.addWidget(
      new ChatView({
        model: model.chat,
        rendermime: options.rendermime,
        actions: options.actions,
        trans,
        showPrompts: true
      })
    );

    // Bottom: Include and its preview, prompt, buttons, status line.
    const bottom = new Widget();
    bottom.addClass('jp-TinyAI-bottom');
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
      ['none', trans.__('nothing')],
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
    this._preview = el('details', 'jp-TinyAI-context-preview');
    contextRow.append(contextLabel, this._preview);

    this._input = el('textarea', 'jp-TinyAI-input');
    this._input.rows = 3;
    this._input.placeholder = trans.__(
      'Ask about your notebook (Enter to send, Shift+Enter for a new line)'
    );
    this._input.setAttribute('aria-label', trans.__('Prompt'));
    this._input.addEventListener('keydown', event => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
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
    this._stopButton.addEventListener('click', () => model.chat.stop());
    buttons.append(this._sendButton, this._stopButton);
    this._status = el('div', 'jp-TinyAI-status');
    bottom.node.append(contextRow, this._input, buttons, this._status);
    this.addWidget(bottom);

    model.chat.changed.connect(this._onChatChanged, this);
    model.include.changed.connect(this._onIncludeChanged, this);
    model.status.changed.connect(this._onStatusChanged, this);
    tracker.currentChanged.connect(this._onNotebookChanged, this);
    tracker.activeCellChanged.connect(this._onCellChanged, this);
    tracker.selectionChanged.connect(this._onCellChanged, this);
    this._tracker = tracker;
    this._parts = [picker, history, notices];
    this._onChatChanged();
    model.include.refresh();
  }

  readonly model: SidebarModel;
  readonly onGetMoreModels: () => void;

  /** Ask what is in the prompt box, with what Include gives. */
  send(): void {
    if (this.model.send(this._input.value)) {
      this._input.value = '';
    }
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
  }

  private _onChatChanged(): void {
    const chat = this.model.chat;
    const busy = chat.busy;
    this._sendButton.hidden = busy;
    this._stopButton.hidden = !busy;
    this._stopButton.disabled = chat.phase === 'stopping';
    this.toggleClass('jp-mod-busy', busy);
    this.node.dataset.phase = chat.phase;
    const banner = chat.banner;
    this._banner.hidden = !banner;
    this._banner.className = `jp-TinyAI-banner jp-TinyAI-banner-${banner?.level ?? 'info'}`;
    this._banner.textContent = banner?.text ?? '';
  }

  private _onIncludeChanged(): void {
    const include = this.model.include;
    this._contextSelect.value = include.source;
    this._preview.textContent = '';
    this._preview.appendChild(
      el('summary', 'jp-TinyAI-context-summary', include.summary)
    );
    for (const piece of include.pieces) {
      this._preview.appendChild(
        el('pre', 'jp-TinyAI-context-text', piece.text)
      );
    }
  }

  private _onStatusChanged(): void {
    const status = this.model.status;
    this._status.textContent = status.text;
    this._status.classList.toggle('jp-mod-error', status.error);
  }

  private _tracker: INotebookTracker;
  private _parts: { dispose(): void }[];
  private _banner: HTMLDivElement;
  private _contextSelect: HTMLSelectElement;
  private _preview: HTMLDetailsElement;
  private _input: HTMLTextAreaElement;
  private _sendButton: HTMLButtonElement;
  private _stopButton: HTMLButtonElement;
  private _status: HTMLDivElement;
}
