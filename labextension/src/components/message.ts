/**
 * One chat message on screen. Answers render as Markdown through JupyterLab's rendermime,
 * untrusted (so sanitized: no scripts, no event handlers, no javascript: links), and with no
 * remote image, video or audio (links instead, see media.ts); every code block gets
 * Copy / Insert below / Replace selection buttons.
 */
import { MimeModel, IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { TranslationBundle } from '@jupyterlab/translation';
import {
  LabIcon,
  addBelowIcon,
  copyIcon,
  editIcon,
  pasteIcon
} from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { IChatMessage, queueText } from '../model';
import { ICodeActions } from './codeactions';
import { guardedRendermime, keepPlaceholderRel } from './media';

/** The name of the User Timing measure of each Markdown render of an answer. */
export const RENDER_MEASURE = 'jupyter-tinyai:render';

export function formatStats(
  stats: IChatMessage['stats'],
  trans: TranslationBundle,
  waited_s?: number
): string {
  if (!stats) {
    return '';
  }
  const parts: string[] = [];
  if (typeof waited_s === 'number') {
    // the wait first: "first token 0.26 s" alone would hide it
    parts.push(trans.__('waited %1 s for the model', waited_s.toFixed(1)));
  }
  if (typeof stats.generated_tokens === 'number') {
    parts.push(trans.__('%1 tokens', stats.generated_tokens));
  }
  if (typeof stats.tokens_per_s === 'number') {
    parts.push(trans.__('%1 tokens/s', stats.tokens_per_s.toFixed(1)));
  }
  if (typeof stats.ttft_s === 'number') {
    parts.push(trans.__('first token %1 s', stats.ttft_s.toFixed(2)));
  }
  if (stats.finish_reason === 'cancelled') {
    parts.push(trans.__('stopped'));
  } else if (stats.finish_reason === 'length') {
    parts.push(trans.__('cut at max tokens'));
  }
  return parts.join(' · ');
}

/** Say `text` on button `b` for a moment (e.g. "Copied ✓"). */
function flash(b: HTMLButtonElement, text: string): void {
  const label = b.querySelector('.jp-TinyAI-code-feedback');
  if (!label) {
    return;
  }
  label.textContent = text;
  b.classList.add('jp-mod-done');
  window.setTimeout(() => {
    label.textContent = '';
    b.classList.remove('jp-mod-done');
  }, 1500);
}

/**
 * Enable "Replace selection" of the code blocks under `node` only while text is selected.
 */
export function updateReplaceButtons(
  node: HTMLElement,
  selected: boolean
): void {
  for (const b of Array.from(
    node.querySelectorAll<HTMLButtonElement>('.jp-TinyAI-replace')
  )) {
    b.disabled = !selected;
  }
}

export class MessageView extends Widget {
  constructor(
    message: IChatMessage,
    private _rendermime: IRenderMimeRegistry,
    private _actions: ICodeActions | null,
    private _trans: TranslationBundle
  ) {
    super();
    this.addClass('jp-TinyAI-message');
    this.addClass(`jp-TinyAI-message-${message.role}`);
    this.node.dataset.role = message.role;
    this._meta = document.createElement('div');
    this._meta.className = 'jp-TinyAI-message-meta';
    this._reasoning = document.createElement('details');
    this._reasoning.className = 'jp-TinyAI-reasoning';
    this._reasoning.hidden = true;
    this._body = document.createElement('div');
    this._body.className = 'jp-TinyAI-message-body';
    this._footer = document.createElement('div');
    this._footer.className = 'jp-TinyAI-message-footer';
    if (message.role === 'assistant') {
      performance.clearMeasures?.(RENDER_MEASURE);
      this._renderer = guardedRendermime(this._rendermime).createRenderer(
        'text/markdown'
      );
      this._renderer.addClass('jp-TinyAI-markdown');
      this._relGuard = keepPlaceholderRel(this._renderer.node);
      this._body.appendChild(this._renderer.node);
    }
    this.node.appendChild(this._meta);
    this.node.appendChild(this._reasoning);
    this.node.appendChild(this._body);
    this.node.appendChild(this._footer);
    this.message = message;
    this.refresh();
  }

  message: IChatMessage;

  /** Bring the view up to date with `message` (cheap when nothing changed). */
  refresh(): void {
    const m = this.message;
    const key = `${m.content.length}|${m.streaming}|${m.failed}|${m.notices?.length}|${!!m.stats}|${m.queued}|${m.model}|${m.time}|${m.reasoning?.length}`;
    if (key !== this._key) {
      this._key = key;
      this._render();
    }
  }

  /** Render now (not on the next frame: tokens are already batched per frame). */
  private _render(): void {
    const m = this.message;
    this.toggleClass('jp-mod-streaming', !!m.streaming);
    this.toggleClass('jp-mod-failed', !!m.failed);
    this._renderMeta(m);
    if (m.role === 'user') {
      this._renderUser(m);
    } else {
      this._renderReasoning(m);
      void this._renderAnswer();
    }
    this._renderFooter(m);
  }

  /** Which model wrote an answer, and when. */
  private _renderMeta(m: IChatMessage): void {
    const parts: string[] = [];
    if (m.role === 'assistant' && m.model) {
      parts.push(m.model);
    }
    const time = m.time ? new Date(m.time) : null;
    if (time && !isNaN(time.getTime())) {
      parts.push(
        time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      );
      this._meta.title = time.toLocaleString();
    }
    this._meta.textContent = parts.join(' · ');
    this._meta.hidden = parts.length === 0;
  }

  /** The model's reasoning, folded under "Thinking…" (open it to read). */
  private _renderReasoning(m: IChatMessage): void {
    const text = m.reasoning ?? '';
    this._reasoning.hidden = !text;
    if (!text) {
      return;
    }
    let summary = this._reasoning.querySelector('summary');
    let body = this._reasoning.querySelector('div');
    if (!summary || !body) {
      summary = document.createElement('summary');
      body = document.createElement('div');
      body.className = 'jp-TinyAI-reasoning-text';
      this._reasoning.append(summary, body);
    }
    summary.textContent =
      m.streaming && !m.content
        ? this._trans.__('Thinking…')
        : this._trans.__('Thinking (%1 characters)', text.length);
    body.textContent = text;
  }

  private _renderUser(m: IChatMessage): void {
    this._body.textContent = '';
    const text = document.createElement('div');
    text.className = 'jp-TinyAI-prompt';
    text.textContent = m.content;
    this._body.appendChild(text);
    for (const piece of m.context ?? []) {
      const details = document.createElement('details');
      details.className = 'jp-TinyAI-context-sent';
      const summary = document.createElement('summary');
      summary.textContent = this._trans.__('Sent: %1', piece.label);
      const pre = document.createElement('pre');
      pre.textContent = piece.text;
      details.append(summary, pre);
      this._body.appendChild(details);
    }
  }

  /** Render the Markdown; while a render runs, later content waits for the next one. */
  private async _renderAnswer(): Promise<void> {
    if (!this._renderer) {
      return;
    }
    if (this._rendering) {
      this._dirty = true;
      return;
    }
    this._rendering = true;
    this.addClass('jp-mod-rendering');
    try {
      do {
        this._dirty = false;
        const content = this.message.content;
        if (content === this._rendered) {
          continue;
        }
        const model = new MimeModel({
          data: { 'text/markdown': content },
          trusted: false
        });
        const start = performance.now();
        await this._renderer.renderModel(model);
        this._rendered = content;
        this._decorateCode();
        // User Timing entries (seen in the browser's performance tools), one answer's worth
        performance.measure?.(RENDER_MEASURE, {
          start,
          end: performance.now()
        });
      } while (this._dirty);
    } finally {
      this._rendering = false;
      this.removeClass('jp-mod-rendering');
    }
    this.node.dispatchEvent(
      new CustomEvent('tinyai-rendered', { bubbles: true })
    );
  }

  private _decorateCode(): void {
    if (!this._renderer || !this._actions) {
      return;
    }
    const actions = this._actions;
    const trans = this._trans;
    for (const pre of Array.from(this._renderer.node.querySelectorAll('pre'))) {
      if (pre.parentElement?.classList.contains('jp-TinyAI-code')) {
        continue;
      }
      const wrapper = document.createElement('div');
      wrapper.className = 'jp-TinyAI-code';
      pre.replaceWith(wrapper);
      const bar = document.createElement('div');
      bar.className = 'jp-TinyAI-code-toolbar';
      const code = () => (pre.textContent ?? '').replace(/\n$/, '');
      const button = (
        icon: LabIcon,
        title: string,
        cls: string,
        run: (b: HTMLButtonElement) => void
      ) => {
        const b = document.createElement('button');
        b.className = `jp-TinyAI-code-button ${cls}`;
        b.title = title;
        b.setAttribute('aria-label', title);
        b.type = 'button';
        const glyph = document.createElement('span');
        glyph.className = 'jp-TinyAI-code-icon';
        icon.element({ container: glyph });
        b.appendChild(glyph);
        const label = document.createElement('span');
        label.className = 'jp-TinyAI-code-feedback';
        b.appendChild(label);
        b.addEventListener('click', event => {
          event.preventDefault();
          run(b);
        });
        bar.appendChild(b);
        return b;
      };
      button(copyIcon, trans.__('Copy the code'), 'jp-TinyAI-copy', b => {
        actions.copy(code());
        flash(b, trans.__('Copied ✓'));
      });
      button(
        addBelowIcon,
        trans.__(
          'Insert the code in a new cell below the active cell (it is not run)'
        ),
        'jp-TinyAI-insert',
        () => actions.insertBelow(code())
      );
      const replace = button(
        pasteIcon,
        trans.__(
          'Replace the selection in the active cell with the code (it is not run)'
        ),
        'jp-TinyAI-replace',
        b => {
          if (!actions.replaceSelection(code())) {
            b.disabled = true;
          }
        }
      );
      replace.disabled = !actions.hasSelection();
      if (actions.canApply()) {
        button(
          editIcon,
          trans.__(
            'Apply the code to the active cell (you see the change first; it is not run)'
          ),
          'jp-TinyAI-apply',
          () => actions.apply(code())
        );
      }
      wrapper.append(bar, pre);
    }
  }

  dispose(): void {
    this._relGuard?.dispose();
    super.dispose();
  }

  private _renderFooter(m: IChatMessage): void {
    this._footer.textContent = '';
    for (const notice of m.notices ?? []) {
      const n = document.createElement('div');
      n.className = 'jp-TinyAI-notice';
      n.textContent = notice;
      this._footer.appendChild(n);
    }
    if (
      m.role === 'assistant' &&
      m.stats &&
      formatStats(m.stats, this._trans, m.waited_s)
    ) {
      const s = document.createElement('div');
      s.className = 'jp-TinyAI-stats';
      s.textContent = formatStats(m.stats, this._trans, m.waited_s);
      this._footer.appendChild(s);
    }
    if (m.role === 'assistant' && m.streaming && !m.content && !m.reasoning) {
      const w = document.createElement('div');
      w.className = 'jp-TinyAI-waiting';
      if (m.queued !== undefined) {
        w.classList.add('jp-TinyAI-queued');
        w.textContent = queueText(m.queued, this._trans);
      } else {
        w.textContent = this._trans.__('Thinking…');
      }
      this._footer.appendChild(w);
    }
  }

  private _body: HTMLElement;
  private _meta: HTMLElement;
  private _reasoning: HTMLDetailsElement;
  private _footer: HTMLElement;
  private _renderer: IRenderMime.IRenderer | null = null;
  private _relGuard: IDisposable | null = null;
  private _rendering = false;
  private _dirty = false;
  private _rendered: string | null = null;
  private _key = '';
}
