/**
 * The messages of a ChatModel, kept in sync with it: one MessageView per message, only the
 * changed ones re-rendered.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { Panel } from '@lumino/widgets';

import { ChatModel } from '../model';
import { ICodeActions } from './codeactions';
import { MessageView } from './message';

export interface IChatViewOptions {
  model: ChatModel;
  rendermime: IRenderMimeRegistry;
  actions: ICodeActions | null;
  trans: TranslationBundle;
  /** Show the user's prompts (the sidebar does; an inline explanation does not). */
  showPrompts?: boolean;
}

export class ChatView extends Panel {
  constructor(private _options: IChatViewOptions) {
    super();
    this.addClass('jp-TinyAI-messages');
    this.node.setAttribute('role', 'log');
    this.node.setAttribute('aria-live', 'polite');
    _options.model.changed.connect(this.sync, this);
    this.sync();
  }

  /** Make the views match the model's messages. */
  sync(): void {
    const { model, rendermime, actions, trans } = this._options;
    const messages = model.messages.filter(
      m => this._options.showPrompts !== false || m.role !== 'user'
    );
    const stick =
      this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight <
      40;
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
    if (stick) {
      this.node.scrollTop = this.node.scrollHeight;
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.changed.disconnect(this.sync, this);
    super.dispose();
  }
}
