/**
 * A proposed edit under its cell: the answer streams in as text, then shows as a diff against
 * the cell's source (CodeMirror's unified merge view, read-only, in JupyterLab's editor theme).
 * Accept replaces the cell's source as one undoable edit; Reject dismisses it; "Continue in
 * sidebar" opens the edit's conversation (the request, the proposal) in the chat sidebar and
 * leaves the proposal here. The cell is never run, and nothing is written to the notebook
 * until Accept.
 */
import { Cell } from '@jupyterlab/cells';
import { jupyterTheme } from '@jupyterlab/codemirror';
import { TranslationBundle } from '@jupyterlab/translation';
import { unifiedMergeView } from '@codemirror/merge';
import { EditorState, Extension } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import '../../style/edit.css';

import { applyProposal } from './apply';
import { EditModel } from './model';
import { button } from '../components/dom';

export interface IInlineEditOptions {
  model: EditModel;
  cell: Cell;
  trans: TranslationBundle;
  /** What the header says ("Fix of this error", "Edit: vectorize this loop"). */
  title: string;
  /** CodeMirror's support for the cell's language, for the diff's colours. */
  language?: Extension | null;
  /** Show the recorded conversation `id` in the sidebar (no button without it). */
  continueInSidebar?: (id: string) => Promise<void>;
}

export class InlineEdit extends Panel {
  constructor(private _o: IInlineEditOptions) {
    super();
    const trans = _o.trans;
    this.addClass('jp-TinyAI-inline');
    this.addClass('jp-TinyAI-edit');
    this.model = _o.model;

    const header = new Widget();
    header.addClass('jp-TinyAI-inline-header');
    const title = document.createElement('span');
    title.className = 'jp-TinyAI-inline-title';
    title.textContent = _o.title;
    this._stop = this._button(trans.__('Stop'), 'jp-TinyAI-edit-stop', () =>
      this.model.stop()
    );
    this._accept = this._button(
      trans.__('Accept'),
      'jp-TinyAI-edit-accept',
      () => this._acceptProposal()
    );
    this._accept.title = trans.__(
      'Replace the cell’s code with the proposal (Ctrl+Z in the cell brings the old code back); the cell is not run'
    );
    this._accept.classList.add('jp-mod-accept');
    this._reject = this._button(
      trans.__('Reject'),
      'jp-TinyAI-edit-reject',
      () => this.model.reject()
    );
    this._reject.title = trans.__(
      'Dismiss the proposal; the cell stays as it is'
    );
    this._continue = this._button(
      trans.__('Continue in sidebar'),
      'jp-TinyAI-edit-continue',
      () => {
        const open = this._o.continueInSidebar;
        if (open) {
          void this.model.continueInSidebar(open);
        }
      }
    );
    this._continue.title = trans.__(
      'Go on talking about this proposal in the TinyAI chat; it stays here to accept or reject'
    );
    header.node.append(
      title,
      this._stop,
      this._accept,
      this._continue,
      this._reject
    );
    this._status = document.createElement('div');
    this._status.className = 'jp-TinyAI-edit-status';
    header.node.appendChild(this._status);
    this.addWidget(header);

    this._body = new Widget();
    this._body.addClass('jp-TinyAI-edit-body');
    this._stream = document.createElement('pre');
    this._stream.className = 'jp-TinyAI-edit-stream';
    this._body.node.appendChild(this._stream);
    this.addWidget(this._body);

    this.model.changed.connect(this._render, this);
    this._render();
  }

  readonly model: EditModel;

  /** Attach under the cell (replacing an earlier proposal there) and show it. */
  attach(): void {
    const layout = this._o.cell.layout as PanelLayout;
    for (const widget of [...layout.widgets]) {
      if (widget instanceof InlineEdit) {
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
    this._merge?.destroy();
    this._merge = null;
    this.model.dispose();
    super.dispose();
  }

  private _render(): void {
    const m = this.model;
    if (m.phase === 'accepted' || m.phase === 'rejected') {
      this.dispose();
      return;
    }
    const busy = m.busy;
    this.toggleClass('jp-mod-busy', busy);
    this._stop.hidden = !busy;
    this._accept.hidden = m.phase !== 'proposed';
    this._continue.hidden =
      !this._o.continueInSidebar || (!m.canContinue && !m.continued);
    this._continue.disabled = m.continued;
    this._continue.textContent = m.continued
      ? this._o.trans.__('Continued in the sidebar')
      : this._o.trans.__('Continue in sidebar');
    this._reject.textContent =
      m.phase === 'proposed' || busy
        ? this._o.trans.__('Reject')
        : this._o.trans.__('Dismiss');
    this._status.textContent = m.status;
    this._status.hidden = !m.status;
    this._status.classList.toggle('jp-mod-error', m.phase === 'failed');
    if (m.phase === 'proposed' && m.proposal !== null) {
      this._showDiff(m.original, m.proposal);
    } else {
      this._stream.hidden = !m.text && !busy;
      this._stream.textContent = m.text || (busy ? '…' : '');
    }
  }

  private _showDiff(original: string, proposal: string): void {
    if (this._merge) {
      return;
    }
    this._stream.hidden = true;
    const host = document.createElement('div');
    host.className = 'jp-TinyAI-edit-diff';
    this._body.node.appendChild(host);
    this._merge = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: proposal,
        extensions: [
          unifiedMergeView({
            original,
            mergeControls: false,
            highlightChanges: true,
            gutter: true,
            syntaxHighlightDeletions: true
          }),
          EditorView.editable.of(false),
          EditorState.readOnly.of(true),
          jupyterTheme,
          this._o.language ?? []
        ]
      })
    });
  }

  private _acceptProposal(): void {
    const m = this.model;
    if (m.phase !== 'proposed' || m.proposal === null) {
      return;
    }
    const result = applyProposal(this._o.cell, m.original, m.proposal);
    if (result === 'changed') {
      m.setStatus(
        this._o.trans.__(
          'The cell was edited after this proposal was made: nothing was changed. Ask again.'
        )
      );
      return;
    }
    m.accept();
  }

  private _button(
    label: string,
    cls: string,
    run: () => void
  ): HTMLButtonElement {
    return button(label, `jp-TinyAI-inline-button ${cls}`, run);
  }

  private _stop: HTMLButtonElement;
  private _accept: HTMLButtonElement;
  private _reject: HTMLButtonElement;
  private _continue: HTMLButtonElement;
  private _status: HTMLDivElement;
  private _body: Widget;
  private _stream: HTMLPreElement;
  private _merge: EditorView | null = null;
}
