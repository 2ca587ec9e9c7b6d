/**
 * The state of the TinyAI sidebar, apart from the chat itself (ChatModel): the model
 * picker, the status line, what is included with a prompt, the History list, the server's
 * notices, and which conversation each notebook shows. No DOM here: widgets/sidebar.ts is
 * its view, and the Jest tests drive it with a fake server API.
 */
import { ChatModel } from '../model';
import {
  IConversation,
  IConversationList,
  IConversationSummary,
  IModelList,
  ISettings,
  IStats,
  IStatus
} from '../tokens';
import { ITrans, plainTrans } from '../trans';
import { ConversationList } from './history';
import { Gather, IncludeChoice } from './include';
import { Notices } from './notices';
import { ModelPicker } from './picker';
import { IKeyValueStore, LastConversation, browserStorage } from './resume';
import { StatusLine } from './status';

/** The REST calls of the sidebar (request.ts's `api`). */
export interface ISidebarApi {
  models(): Promise<IModelList>;
  loadModel(model: string): Promise<unknown>;
  status(): Promise<IStatus>;
  conversations(notebook: string | null): Promise<IConversationList>;
  conversation(id: string): Promise<IConversation>;
  deleteConversation(id: string): Promise<unknown>;
  keepConversation(id: string): Promise<unknown>;
}

export interface ISidebarModelOptions {
  chat: ChatModel;
  api: ISidebarApi;
  /** The path of the active notebook, null when there is none. */
  notebook: () => string | null;
  /** The context pieces of a source, from the active notebook. */
  gather: Gather;
  settings: () => ISettings;
  /** Where the last conversation of each notebook is kept; default: localStorage. */
  storage?: () => IKeyValueStore | null;
  /** How long a deletion can be undone (ms); default 8000. */
  undoMs?: number;
  trans?: ITrans;
}

function message(error: unknown): string {
  return (error as Error).message;
}

export class SidebarModel {
  constructor(options: ISidebarModelOptions) {
    const trans = options.trans ?? plainTrans;
    this._o = options;
    this._trans = trans;
    this.chat = options.chat;
    this.picker = new ModelPicker(trans);
    this.status = new StatusLine(trans);
    this.include = new IncludeChoice(
      options.gather,
      options.settings().includeContext,
      trans,
      options.storage ?? browserStorage
    );
    this.history = new ConversationList();
    this.notices = new Notices();
    this._last = new LastConversation(options.storage ?? browserStorage);
    this.chat.finished.connect(this._onFinished, this);
  }

  readonly chat: ChatModel;
  readonly picker: ModelPicker;
  readonly status: StatusLine;
  readonly include: IncludeChoice;
  readonly history: ConversationList;
  readonly notices: Notices;

  /** The active notebook's path. */
  get notebook(): string | null {
    return this._o.notebook();
  }

  /** The last prompt of the chat shown (↑ in an empty prompt box recalls it). */
  get lastPrompt(): string | null {
    const prompts = this.chat.messages.filter(m => m.role === 'user');
    return prompts.length ? prompts[prompts.length - 1].content : null;
  }

  /** Read the models, the status and the conversation list again. */
  async refresh(): Promise<void> {
    await Promise.all([
      this.loadModels(),
      this.loadStatus(),
      this.loadConversations()
    ]);
  }

  /** Ask `prompt` with what Include gives now; false when it was not sent. */
  send(prompt: string): boolean {
    if (!prompt.trim() || this.chat.busy) {
      return false;
    }
    const settings = this._o.settings();
    return this.chat.send(prompt, {
      context: this.include.gather(),
      // a conversation keeps the notebook it started in (or none)
      notebook: this.chat.messages.length ? undefined : this.notebook,
      model: this.picker.chosen || undefined,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens
    });
  }

  /** An empty chat for the active notebook (its last conversation is not reopened). */
  newChat(): void {
    this._autoResume = false;
    this._userChoice += 1; // a conversation being reopened meanwhile is not shown
    this.chat.newChat(this.notebook);
    this.history.setOpen(false);
  }

  /** Show `conversation`: an inline explanation continued here (listed in History now). */
  showConversation(conversation: IConversation): void {
    this.chat.load(conversation);
    this._remember();
    this.history.setOpen(false);
    void this._o.api
      .keepConversation(conversation.id)
      .catch(() => undefined) // not saved yet (still answering): its next turn keeps it
      .then(() => this.loadConversations());
  }

  /**
   * Another notebook became active: an empty chat for it, whose last conversation is
   * reopened once its list is read (an answer still streaming is left alone).
   */
  notebookChanged(): void {
    this.include.refresh();
    const path = this.notebook;
    const loose = this.chat.notebook === null && this.chat.messages.length > 0;
    if (this.chat.busy || path === this.chat.notebook || loose) {
      // a chat started with no notebook stays on screen (and in History under its heading)
      void this.loadConversations();
      return;
    }
    this.chat.newChat(path);
    this._autoResume = true;
    void this.loadConversations();
  }

  async loadModels(): Promise<void> {
    let list: IModelList;
    try {
      list = await this._o.api.models();
    } catch (error) {
      this.chat.setBanner({ level: 'error', text: message(error) });
      return;
    }
    this.notices.add(list.warnings?.map(w => w.message));
    this.picker.update(list, this._o.settings().defaultModel);
  }

  /** The user picked `id`: load it unless it is the loaded one. */
  async pickModel(id: string): Promise<void> {
    if (!this.picker.choose(id)) {
      return;
    }
    this.chat.setBanner({
      level: 'info',
      text: this._trans.__('Loading %1…', id)
    });
    try {
      await this._o.api.loadModel(id);
      this.chat.setBanner(null);
    } catch (error) {
      this.chat.setBanner({ level: 'error', text: message(error) });
    }
    await Promise.all([this.loadModels(), this.loadStatus()]);
  }

  async loadStatus(): Promise<void> {
    let status: IStatus;
    try {
      status = await this._o.api.status();
    } catch (error) {
      this.status.showError(message(error));
      return;
    }
    this.status.showStatus(status);
  }

  toggleHistory(): void {
    this.history.setOpen(!this.history.open);
    if (this.history.open) {
      void this.loadConversations();
    }
  }

  /**
   * Read the active notebook's conversations; after a reload or a notebook switch, reopen
   * the one it showed last (else its newest) if the chat is still empty.
   */
  async loadConversations(): Promise<void> {
    const path = this.notebook;
    let list: IConversationList;
    let loose: IConversationList;
    try {
      [list, loose] = await Promise.all([
        path === null
          ? Promise.resolve({ conversations: [] })
          : this._o.api.conversations(path),
        this._o.api.conversations('')
      ]);
    } catch (error) {
      this.history.fail(message(error));
      return;
    }
    this.notices.add(list.notices);
    this.notices.add(loose.notices);
    const pending = this._pendingDelete?.id;
    const keep = (c: IConversationSummary) => c.id !== pending;
    this.history.show(
      path,
      list.conversations.filter(keep),
      loose.conversations.filter(keep)
    );
    const conversations =
      path === null ? this.history.loose : this.history.conversations;
    if (
      this._autoResume &&
      conversations.length > 0 &&
      this.chat.messages.length === 0 &&
      !this.chat.busy
    ) {
      this._autoResume = false;
      const last = this._last.recall(this.notebook);
      const resume = conversations.find(c => c.id === last) ?? conversations[0];
      await this.openConversation(resume.id, this._userChoice);
    }
    this._autoResume = false;
  }

  /** Show a stored conversation (`choice`: only if the user chose nothing else since). */
  async openConversation(id: string, choice?: number): Promise<void> {
    try {
      const conversation = await this._o.api.conversation(id);
      if (choice !== undefined && choice !== this._userChoice) {
        return;
      }
      this.chat.load(conversation);
      this._remember();
      if (choice === undefined) {
        this.history.setOpen(false); // the user's pick; a resume leaves the list as it is
      }
    } catch (error) {
      this.chat.setBanner({ level: 'error', text: message(error) });
    }
  }

  /**
   * Delete a conversation of the list: it leaves the list at once and is deleted for good
   * after a few seconds, unless `undoDelete` is called first (one pending at a time).
   */
  async deleteConversation(id: string): Promise<void> {
    await this.settleDelete();
    const summary = this.history.setPending(id);
    if (!summary) {
      return;
    }
    const shown = id === this.chat.conversationId;
    if (shown) {
      this.chat.newChat(this.notebook);
    }
    const timer = setTimeout(
      () => void this.settleDelete(),
      this._o.undoMs ?? 8000
    );
    this._pendingDelete = { id, shown, timer };
  }

  /** Bring back the conversation deleted a moment ago (reopened if it was shown). */
  async undoDelete(): Promise<void> {
    const pending = this._pendingDelete;
    if (!pending) {
      return;
    }
    clearTimeout(pending.timer);
    this._pendingDelete = null;
    this.history.setPending(null);
    await this.loadConversations();
    if (pending.shown && this.chat.messages.length === 0) {
      await this.openConversation(pending.id);
    }
  }

  /** Delete for good the conversation pending deletion, if any. */
  async settleDelete(): Promise<void> {
    const pending = this._pendingDelete;
    if (!pending) {
      return;
    }
    clearTimeout(pending.timer);
    this._pendingDelete = null;
    try {
      await this._o.api.deleteConversation(pending.id);
    } catch (error) {
      this.chat.setBanner({ level: 'error', text: message(error) });
    }
    this.history.setPending(null);
    await this.loadConversations();
  }

  private _onFinished(_: ChatModel, stats: IStats | null): void {
    this._remember();
    if (stats) {
      this.status.showStats(stats.model ?? this.picker.loaded, stats);
    }
    void this.loadConversations();
  }

  /** Remember which conversation the sidebar shows for this notebook (across reloads). */
  private _remember(): void {
    this._last.remember(this.notebook, this.chat.conversationId);
  }

  private _o: ISidebarModelOptions;
  private _trans: ITrans;
  private _last: LastConversation;
  private _autoResume = true;
  private _userChoice = 0;
  private _pendingDelete: {
    id: string;
    shown: boolean;
    timer: ReturnType<typeof setTimeout>;
  } | null = null;
}
