/**
 * An explanation streamed inline, under a cell. It lives in the cell's widget tree only:
 * nothing is written to the notebook. "Continue in sidebar" moves the conversation to the
 * sidebar; "Dismiss" removes it.
 */
import { Cell } from '@jupyterlab/cells';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';
import { PanelLayout, Widget, Panel } from '@lumino/widgets';

import { ChatView } from '../components/chatview';
import { ICodeActions } from '../components/codeactions';
import { renderBanner } from '../components/notices';
import { ChatModel, IBanner, IChatConnection } from '../model';
import { IContextPiece, IConversation } from '../tokens';
import { button } from '../components/dom';

export interface IInlineOptions {
  connection: IChatConnection;
  rendermime: IRenderMimeRegistry;
  actions: ICodeActions;
  trans: TranslationBundle;
  /** What the header says is explained ("Explanation of cell 3"). */
  title: string;
  prompt: string;
  context: IContextPiece[];
  notebook: string | null;
  model?: string;
  temperature?: number | null;
  maxTokens?: number | null;
  continueInSidebar: (conversation: IConversation) => void;
}

export class InlineExplanation extends Panel {
  constructor(private _o: IInlineOptions) {
    super();
    const trans = _o.trans;
    this.addClass('jp-TinyAI-inline');
    this.model = new ChatModel({ connection: _o.connection, trans });

    const header = new Widget();
    header.addClass('jp-TinyAI-inline-header');
    const title = document.createElement('span');
    title.className = 'jp-TinyAI-inline-title';
    title.textContent = _o.title;
    this._stop = this._button(trans.__('Stop'), 'jp-TinyAI-inline-stop', () =>
      this.model.stop()
    );
    this._continue = this._button(
      trans.__('Continue in sidebar'),
      'jp-TinyAI-inline-continue',
      () => this._continueInSidebar()
    );
    const dismiss = this._button(
      trans.__('Dismiss'),
      'jp-TinyAI-inline-dismiss',
      () => this.dispose()
    );
    dismiss.title = trans.__(
      'Remove this explanation (it was never part of the notebook)'
    );
    header.node.append(title, this._stop, this._continue, dismiss);
    this.addWidget(header);

    this._banner = document.createElement('div');
    this._banner.className = 'jp-TinyAI-banner';
    this._banner.hidden = true;
    header.node.appendChild(this._banner);

    this.addWidget(
      new ChatView({
        model: this.model,
        rendermime: _o.rendermime,
        actions: _o.actions,
        trans,
        showPrompts: false
      })
    );
    this.model.changed.connect(this._onChanged, this);
    this.model.send(_o.prompt, {
      context: _o.context,
      notebook: _o.notebook,
      model: _o.model,
      temperature: _o.temperature,
      maxTokens: _o.maxTokens,
      inline: true
    });
    this._onChanged();
  }

  readonly model: ChatModel;

  /** Attach under `cell`, replacing an earlier explanation there. */
  attachTo(cell: Cell): void {
    const layout = cell.layout as PanelLayout;
    for (const widget of [...layout.widgets]) {
      if (widget instanceof InlineExplanation) {
        widget.dispose();
      }
    }
    layout.addWidget(this);
    this.node.scrollIntoView({ block: 'nearest' });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  private _button(
    label: string,
    cls: string,
    run: () => void
  ): HTMLButtonElement {
    return button(label, `jp-TinyAI-inline-button ${cls}`, run);
  }

  private _onChanged(): void {
    const busy = this.model.busy;
    this._stop.hidden = !busy;
    this._continue.disabled = busy || this._continued;
    this.toggleClass('jp-mod-busy', busy);
    const banner = this.model.banner;
    if (banner !== this._shownBanner) {
      this._shownBanner = banner;
      renderBanner(this._banner, banner, this._o.trans, () =>
        this.model.setBanner(null)
      );
    }
  }

  private _continueInSidebar(): void {
    const m = this.model;
    this._o.continueInSidebar({
      id: m.conversationId,
      notebook: m.notebook,
      title: this._o.title,
      messages: m.messages.map(msg => ({
        role: msg.role,
        content: msg.content,
        context: msg.context,
        stats: msg.stats,
        model: msg.model,
        time: msg.time,
        reasoning: msg.reasoning
      }))
    });
    // the explanation stays where it is (removing it would move the notebook)
    this._continued = true;
    this._continue.textContent = this._o.trans.__('Continued in the sidebar');
    this._onChanged();
  }

  private _stop: HTMLButtonElement;
  private _continue: HTMLButtonElement;
  private _continued = false;
  private _banner: HTMLDivElement;
  private _shownBanner: IBanner | null = null;
}
