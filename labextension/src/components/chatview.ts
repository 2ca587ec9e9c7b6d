/**
 * The messages of a ChatModel, kept in sync with it: one MessageView per message, only the
 * changed ones re-rendered. It keeps the newest message in view while its ScrollFollow says
 * so (after a send, when a conversation opens, while the user has not scrolled up).
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Panel } from '@lumino/widgets';

import { ChatModel } from '../model';
import { ScrollFollow } from '../state/scroll';
import { ICodeActions } from './codeactions';
import { MessageView } from './message';

export interface IChatViewOptions {
  model: ChatModel;
  rendermime: IRenderMimeRegistry;
  actions: ICodeActions | null;
  trans: TranslationBundle;
  /** Show the user's prompts (the sidebar does; an inline explanation does not). */
  showPrompts?: boolean;
  /** Whether to follow the newest message (the sidebar's, for its "↓ new messages"). */
  follow?: ScrollFollow;
}

/** How close to the bottom (px) counts as being at the bottom. */
const NEAR_BOTTOM = 24;

export class ChatView extends Panel {
  constructor(private _options: IChatViewOptions) {
    super();
    this.addClass('jp-TinyAI-messages');
    this.node.setAttribute('role', 'log');
    this.node.setAttribute('aria-live', 'polite');
    this.follow = _options.follow ?? new ScrollFollow();
    _options.model.changed.connect(this.sync, this);
    this.node.addEventListener('scroll', this._onScroll);
    // an answer's Markdown renders after sync: keep following it as it grows
    this.node.addEventListener('tinyai-rendered', this._stick);
    if (typeof ResizeObserver !== 'undefined') {
      this._resize = new ResizeObserver(this._stick);
      this._resize.observe(this.node);
    }
    this.sync();
  }

  readonly follow: ScrollFollow;

  /** Make the views match the model's messages. */
  sync(): void {
    const { model, rendermime, actions, trans } = this._options;
    const messages = model.messages.filter(
      m => this._options.showPrompts !== false || m.role !== 'user'
    );
    const views = this.widgets as ReadonlyArray<MessageView>;
    let i = 0;
    for (; i < messages.length; i++) {
      const view = views[i];
      if (view && view.message === messages[i]) {
        view.refresh();
        continue;
      }
      while (this.widgets.length > i) {
        this.widgets[this.widgets.length - 1].dispose();
      }
      this.addWidget(new MessageView(messages[i], rendermime, actions, trans));
    }
    while (this.widgets.length > messages.length) {
      this.widgets[this.widgets.length - 1].dispose();
    }
    const all = model.messages;
    const last = all[all.length - 1];
    const follow = this.follow.update(
      model.conversationId,
      all.filter(m => m.role === 'user').length,
      `${all.length}|${last?.content.length ?? 0}|${last?.streaming ?? false}`
    );
    this.node.dataset.following = String(follow);
    if (follow) {
      this._stick();
    }
  }

  /** Show the newest message and follow it again. */
  scrollToLatest(): void {
    this.follow.jump();
    this.node.dataset.following = 'true';
    this._stick();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.changed.disconnect(this.sync, this);
    this.node.removeEventListener('scroll', this._onScroll);
    this.node.removeEventListener('tinyai-rendered', this._stick);
    this._resize?.disconnect();
    super.dispose();
  }

  protected onAfterShow(): void {
    this._stick();
  }

  private _stick = (): void => {
    if (!this.follow.following) {
      return;
    }
    const node = this.node;
    node.scrollTop = node.scrollHeight;
    this._stuckAt = node.scrollTop;
  };

  private _onScroll = (): void => {
    const node = this.node;
    const atBottom =
      node.scrollHeight - node.scrollTop - node.clientHeight < NEAR_BOTTOM;
    if (atBottom) {
      this.follow.scrolled(true);
    } else if (node.scrollTop < this._stuckAt - 1 || !this.follow.following) {
      // the user moved up from where the view was kept (not our own scroll)
      this.follow.scrolled(false);
    }
    this._stuckAt = Math.min(this._stuckAt, node.scrollTop);
    this.node.dataset.following = String(this.follow.following);
  };

  private _resize: ResizeObserver | null = null;
  /** Where the view last put its scroll position to follow. */
  private _stuckAt = 0;
}
