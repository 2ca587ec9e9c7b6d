/**
 * The TinyAI sidebar: model picker, conversation list for the active notebook, messages,
 * the context that will be sent, the prompt box with Send / Stop, and a status line.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Panel, Widget } from '@lumino/widgets';

import { gatherContext } from '../context';
import { ChatView } from '../components/chatview';
import { ICodeActions } from '../components/codeactions';
import { ChatModel } from '../model';
import { api } from '../request';
import {
  ContextSource,
  IConversation,
  IConversationSummary,
  IModelList,
  ISettings,
  IStats,
  IStatus
} from '../tokens';

export interface ISidebarOptions {
  model: ChatModel;
  tracker: INotebookTracker;
  rendermime: IRenderMimeRegistry;
  actions: ICodeActions;
  trans: TranslationBundle;
  settings: () => ISettings;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

export class TinyAISidebar extends Panel {
  constructor(private _o: ISidebarOptions) {
    super();
    const trans = _o.trans;
    this.addClass('jp-TinyAI-sidebar');

    // Header: model picker, history, new chat.
    const header = el('div', 'jp-TinyAI-header');
    this._modelSelect = el('select', 'jp-TinyAI-model-select jp-mod-styled');
    this._modelSelect.title = trans.__('Model used for the next answer');
    this._modelSelect.setAttribute('aria-label', trans.__('Model'));
    this._modelSelect.addEventListener(
      'change',
      () => void this._pickModel(this._modelSelect.value)
    );
    this._historyButton = el(
      'button',
      'jp-TinyAI-history-button jp-mod-styled',
      trans.__('History')
    );
    this._historyButton.title = trans.__('Conversations of this notebook');
    this._historyButton.addEventListener('click', () => this._toggleHistory());
    const newChat = el(
      'button',
      'jp-TinyAI-new-chat jp-mod-styled',
      trans.__('New chat')
    );
    newChat.title = trans.__('Start a new conversation');
    newChat.addEventListener('click', () => this.newChat());
    header.append(this._modelSelect, this._historyButton, newChat);
    this._history = el('div', 'jp-TinyAI-history');
    this._history.hidden = true;
    this._banner = el('div', 'jp-TinyAI-banner');
    this._banner.setAttribute('role', 'status');
    this._banner.hidden = true;
    this._notices = el('div', 'jp-TinyAI-notices');
    this._notices.setAttribute('role', 'status');

    const top = new Widget();
    top.addClass('jp-TinyAI-top');
    top.node.append(header, this._history, this._banner, this._notices);
    this.addWidget(top);

    this._view = new ChatView({
      model: _o.model,
      rendermime: _o.rendermime,
      actions: _o.actions,
      trans,
      showPrompts: true
    });
    this.addWidget(this._view);

    // Bottom: context chooser and preview, prompt, buttons, status line.
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
    this._contextSelect.value = _o.settings().includeContext;
    this._contextSelect.addEventListener('change', () => this._updatePreview());
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
    this._input.addEventListener('focus', () => this._updatePreview());
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
    this._stopButton.addEventListener('click', () => this._o.model.stop());
    buttons.append(this._sendButton, this._stopButton);
    this._status = el('div', 'jp-TinyAI-status');
    bottom.node.append(contextRow, this._input, buttons, this._status);
    this.addWidget(bottom);

    _o.model.changed.connect(this._onModelChanged, this);
    _o.model.finished.connect(this._onFinished, this);
    _o.tracker.currentChanged.connect(this._onNotebookChanged, this);
    _o.tracker.activeCellChanged.connect(() => this._updatePreview(), this);
    _o.tracker.selectionChanged.connect(() => this._updatePreview(), this);
    this._onModelChanged();
    this._updatePreview();
  }

  get model(): ChatModel {
    return this._o.model;
  }

  /** Refresh models, status and the conversation list (when shown and on startup). */
  async refresh(): Promise<void> {
    await Promise.all([
      this._loadModels(),
      this._loadStatus(),
      this._loadConversations()
    ]);
  }

  /** Ask what is in the prompt box, with the chosen context. */
  send(): void {
    const prompt = this._input.value;
    if (!prompt.trim() || this._o.model.busy) {
      return;
    }
    const settings = this._o.settings();
    const context = gatherContext(
      this._panel,
      this._contextSelect.value as ContextSource
    );
    const sent = this._o.model.send(prompt, {
      context,
      notebook: this._notebookPath,
      model: this._modelSelect.value || undefined,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens
    });
    if (sent) {
      this._input.value = '';
    }
  }

  newChat(): void {
    this._autoResume = false; // the user asked for an empty chat
    this._o.model.newChat(this._notebookPath);
    this._history.hidden = true;
    this._input.focus();
  }

  /** Show `conversation` (e.g. an inline explanation continued here). */
  showConversation(conversation: IConversation): void {
    this._o.model.load(conversation);
    this._remember();
    this._history.hidden = true;
    void this._loadConversations();
  }

  /** Set the prompt box (used by commands) and focus it. */
  setPrompt(text: string): void {
    this._input.value = text;
    this._input.focus();
  }

  setContextSource(source: ContextSource): void {
    this._contextSelect.value = source;
    this._updatePreview();
  }

  protected onAfterShow(): void {
    void this.refresh();
    this._updatePreview();
  }

  protected onActivateRequest(): void {
    this._input.focus();
  }

  private get _panel(): NotebookPanel | null {
    return this._o.tracker.currentWidget;
  }

  private get _notebookPath(): string | null {
    return this._panel?.context.path ?? null;
  }

  private _onModelChanged(): void {
    const model = this._o.model;
    const busy = model.busy;
    this._sendButton.hidden = busy;
    this._stopButton.hidden = !busy;
    this._stopButton.disabled = model.phase === 'stopping';
    this.toggleClass('jp-mod-busy', busy);
    this.node.dataset.phase = model.phase;
    const banner = model.banner;
    this._banner.hidden = !banner;
    this._banner.className = `jp-TinyAI-banner jp-TinyAI-banner-${banner?.level ?? 'info'}`;
    this._banner.textContent = banner?.text ?? '';
  }

  private _onFinished(_: ChatModel, stats: IStats | null): void {
    this._remember();
    if (stats) {
      this._showStatus(stats.model ?? this._loadedModel, stats);
    }
    void this._loadConversations();
  }

  private _onNotebookChanged(): void {
    this._updatePreview();
    const path = this._notebookPath;
    const model = this._o.model;
    if (model.busy || path === model.notebook) {
      return;
    }
    model.newChat(path);
    this._autoResume = true;
    void this._loadConversations();
  }

  private _updatePreview(): void {
    const trans = this._o.trans;
    const pieces = gatherContext(
      this._panel,
      this._contextSelect.value as ContextSource
    );
    this._preview.textContent = '';
    const summary = el('summary', 'jp-TinyAI-context-summary');
    if (this._contextSelect.value === 'none') {
      summary.textContent = trans.__('Only your prompt is sent.');
    } else if (pieces.length === 0) {
      summary.textContent = trans.__('Nothing to include right now.');
    } else {
      summary.textContent = trans.__(
        'Will send: %1 (%2 characters)',
        pieces[0].label,
        pieces[0].text.length
      );
    }
    this._preview.appendChild(summary);
    for (const piece of pieces) {
      this._preview.appendChild(
        el('pre', 'jp-TinyAI-context-text', piece.text)
      );
    }
  }

  private async _loadModels(): Promise<void> {
    const trans = this._o.trans;
    let list: IModelList;
    try {
      list = await api.models();
    } catch (error) {
      this._o.model.setBanner({
        level: 'error',
        text: (error as Error).message
      });
      return;
    }
    this._notify(list.warnings?.map(w => w.message));
    this._loadedModel = list.loaded;
    // the user's pick, else the configured default: never whatever another client left loaded
    const wanted =
      this._modelSelect.value ||
      this._o.settings().defaultModel ||
      list.default ||
      '';
    this._modelSelect.textContent = '';
    for (const m of list.models) {
      const label =
        m.id === list.loaded
          ? trans.__('%1 (loaded)', m.name || m.id)
          : m.name || m.id;
      const option = el('option', '', label);
      option.value = m.id;
      option.title = [m.id, m.backend, m.quantization, m.path]
        .filter(Boolean)
        .join(' · ');
      this._modelSelect.appendChild(option);
    }
    for (const w of (list.warnings ?? []).filter(w => w.remote)) {
      const option = el(
        'option',
        'jp-TinyAI-model-warning',
        trans.__('%1: not available', w.remote)
      );
      option.disabled = true;
      option.title = w.message;
      this._modelSelect.appendChild(option);
    }
    if (list.models.some(m => m.id === wanted)) {
      this._modelSelect.value = wanted;
    }
  }

  private async _pickModel(id: string): Promise<void> {
    if (!id || id === this._loadedModel) {
      return;
    }
    const trans = this._o.trans;
    this._o.model.setBanner({
      level: 'info',
      text: trans.__('Loading %1…', id)
    });
    try {
      await api.loadModel(id);
      this._o.model.setBanner(null);
    } catch (error) {
      this._o.model.setBanner({
        level: 'error',
        text: (error as Error).message
      });
    }
    await Promise.all([this._loadModels(), this._loadStatus()]);
  }

  private async _loadStatus(): Promise<void> {
    let status: IStatus;
    try {
      status = await api.status();
    } catch (error) {
      this._status.textContent = (error as Error).message;
      this._status.classList.add('jp-mod-error');
      return;
    }
    this._status.classList.remove('jp-mod-error');
    this._showStatus(
      status.model?.name ?? status.model?.id ?? null,
      status.last ?? null,
      status.backend ?? null
    );
  }

  private _showStatus(
    model: string | null | undefined,
    last: IStats | null,
    backend?: string | null
  ): void {
    const trans = this._o.trans;
    const parts = [model ? model : trans.__('no model loaded')];
    if (backend || last?.backend) {
      parts.push(String(backend ?? last?.backend));
    }
    if (last && typeof last.tokens_per_s === 'number') {
      parts.push(trans.__('%1 tokens/s', last.tokens_per_s.toFixed(1)));
    }
    this._status.textContent = parts.join(' · ');
  }

  private _toggleHistory(): void {
    this._history.hidden = !this._history.hidden;
    if (!this._history.hidden) {
      void this._loadConversations();
    }
  }

  private async _loadConversations(): Promise<void> {
    const trans = this._o.trans;
    const path = this._notebookPath;
    let conversations: IConversationSummary[];
    try {
      const list = await api.conversations(path);
      this._notify(list.notices);
      conversations = list.conversations;
      conversations.sort((a, b) =>
        String(a.updated) < String(b.updated) ? 1 : -1
      );
      if (conversations.every(c => typeof c.updated === 'number')) {
        conversations.sort((a, b) => Number(b.updated) - Number(a.updated));
      }
    } catch (error) {
      this._history.textContent = (error as Error).message;
      return;
    }
    this._history.textContent = '';
    const title = el(
      'div',
      'jp-TinyAI-history-title',
      path ? trans.__('Conversations of %1', path) : trans.__('Conversations')
    );
    this._history.appendChild(title);
    if (conversations.length === 0) {
      this._history.appendChild(
        el('div', 'jp-TinyAI-history-empty', trans.__('No conversations yet.'))
      );
    }
    for (const c of conversations) {
      const row = el('div', 'jp-TinyAI-history-item');
      row.dataset.id = c.id;
      row.classList.toggle(
        'jp-mod-current',
        c.id === this._o.model.conversationId
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
      open.addEventListener('click', () => void this._openConversation(c.id));
      const remove = el('button', 'jp-TinyAI-history-delete', '×');
      remove.title = trans.__('Delete this conversation');
      remove.setAttribute('aria-label', remove.title);
      remove.addEventListener('click', async () => {
        try {
          await api.deleteConversation(c.id);
        } catch (error) {
          this._o.model.setBanner({
            level: 'error',
            text: (error as Error).message
          });
        }
        if (c.id === this._o.model.conversationId) {
          this._o.model.newChat(path);
        }
        void this._loadConversations();
      });
      row.append(open, remove);
      this._history.appendChild(row);
    }
    // After a reload or a notebook switch, pick up where this notebook's chat left off.
    if (
      this._autoResume &&
      conversations.length > 0 &&
      this._o.model.messages.length === 0 &&
      !this._o.model.busy
    ) {
      this._autoResume = false;
      const last = this._recall();
      const resume = conversations.find(c => c.id === last) ?? conversations[0];
      await this._openConversation(resume.id);
    }
    this._autoResume = false;
  }

  /** Show each server warning (a bad model file, a damaged history file) once, until dismissed. */
  private _notify(lines: string[] | undefined): void {
    for (const line of lines ?? []) {
      if (this._noticesShown.has(line)) {
        continue;
      }
      this._noticesShown.add(line);
      const row = el(
        'div',
        'jp-TinyAI-banner jp-TinyAI-banner-warning jp-TinyAI-notice',
        line
      );
      const dismiss = el('button', 'jp-TinyAI-notice-dismiss', '×');
      dismiss.title = this._o.trans.__('Dismiss');
      dismiss.setAttribute('aria-label', dismiss.title);
      dismiss.addEventListener('click', () => row.remove());
      row.appendChild(dismiss);
      this._notices.appendChild(row);
    }
  }

  /** Remember which conversation the sidebar shows for this notebook (across reloads). */
  private _remember(): void {
    try {
      window.localStorage.setItem(
        `jupyter-tinyai:last:${this._notebookPath ?? ''}`,
        this._o.model.conversationId
      );
    } catch {
      // storage may be disabled: resuming then picks the most recent conversation
    }
  }

  private _recall(): string | null {
    try {
      return window.localStorage.getItem(
        `jupyter-tinyai:last:${this._notebookPath ?? ''}`
      );
    } catch {
      return null;
    }
  }

  private async _openConversation(id: string): Promise<void> {
    try {
      const conversation = await api.conversation(id);
      this._o.model.load(conversation);
      this._remember();
      this._history.hidden = true;
    } catch (error) {
      this._o.model.setBanner({
        level: 'error',
        text: (error as Error).message
      });
    }
  }

  private _view: ChatView;
  private _modelSelect: HTMLSelectElement;
  private _historyButton: HTMLButtonElement;
  private _history: HTMLDivElement;
  private _banner: HTMLDivElement;
  private _notices: HTMLDivElement;
  private _noticesShown = new Set<string>();
  private _contextSelect: HTMLSelectElement;
  private _preview: HTMLDetailsElement;
  private _input: HTMLTextAreaElement;
  private _sendButton: HTMLButtonElement;
  private _stopButton: HTMLButtonElement;
  private _status: HTMLDivElement;
  private _loadedModel: string | null = null;
  private _autoResume = true;
}
