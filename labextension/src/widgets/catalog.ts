/**
 * "Get more models…", a view of a CatalogModel (state/catalog.ts): this machine's memory,
 * then one row per catalog model with its roles, download size, fit badge and a Download
 * button; a running download shows a progress bar with its line and a Cancel button.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { el } from '../components/dom';
import { CatalogModel, ICatalogEntry, humanSize } from '../state/catalog';

export const CATALOG_ID = 'jp-TinyAI-catalog';

export class CatalogWidget extends Widget {
  constructor(
    readonly model: CatalogModel,
    private _trans: TranslationBundle
  ) {
    super();
    this.id = CATALOG_ID;
    this.addClass('jp-TinyAI-catalog');
    this.title.label = _trans.__('TinyAI models');
    this.title.caption = _trans.__('Models to download for this machine');
    this.title.closable = true;
    this._intro = el('p', 'jp-TinyAI-catalog-machine');
    this._error = el('div', 'jp-TinyAI-catalog-error');
    this._error.setAttribute('role', 'alert');
    this._list = el('div', 'jp-TinyAI-catalog-list');
    this.node.append(this._intro, this._error, this._list);
    model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected onAfterAttach(): void {
    void this.model.refresh();
  }

  private _render(): void {
    const model = this.model;
    const trans = this._trans;
    this._intro.textContent = model.loading
      ? trans.__('Reading the catalog…')
      : model.machine;
    this._error.textContent = model.error;
    this._error.hidden = !model.error;
    this._list.textContent = '';
    for (const entry of model.entries) {
      this._list.appendChild(this._row(entry));
    }
  }

  private _row(entry: ICatalogEntry): HTMLElement {
    const trans = this._trans;
    const model = this.model;
    const row = el('div', 'jp-TinyAI-catalog-entry');
    row.dataset.name = entry.name;
    const head = el('div', 'jp-TinyAI-catalog-head');
    const title = el('span', 'jp-TinyAI-catalog-title', entry.title);
    title.title = `${entry.repo} (${entry.format === 'mlx' ? 'MLX' : entry.quant}, ${entry.license})`;
    const badges = {
      fits: trans.__('fits'),
      tight: trans.__('tight'),
      'too large': trans.__('too large')
    };
    const badge = el(
      'span',
      `jp-TinyAI-badge jp-TinyAI-badge-${entry.fit.badge.replace(' ', '-')}`,
      badges[entry.fit.badge] ?? entry.fit.badge
    );
    badge.title = trans.__(
      'needs %1 (%2 weights + %3 for %4 tokens of context); %5 free of %6',
      humanSize(entry.fit.need_bytes),
      humanSize(entry.fit.weights_bytes),
      humanSize(entry.fit.kv_bytes),
      entry.fit.n_ctx,
      humanSize(entry.fit.available_bytes),
      humanSize(entry.fit.total_bytes)
    );
    head.append(title, badge);
    if (entry.best_for.length) {
      head.appendChild(
        el(
          'span',
          'jp-TinyAI-catalog-best',
          trans.__('best here for %1', entry.best_for.join(', '))
        )
      );
    }
    const facts = el(
      'div',
      'jp-TinyAI-catalog-facts',
      [
        entry.roles.join(', '),
        entry.params,
        trans.__('%1 download', humanSize(entry.size_bytes)),
        entry.reasoning ? trans.__('reasons before answering') : ''
      ]
        .filter(Boolean)
        .join(' · ')
    );
    const pull = model.pullOf(entry.name);
    const running = pull?.state === 'running';
    const line = el(
      'div',
      `jp-TinyAI-catalog-line${pull?.state === 'failed' ? ' jp-mod-error' : ''}`,
      model.describe(entry)
    );
    const actions = el('div', 'jp-TinyAI-catalog-actions');
    if (running) {
      const bar = el('progress', 'jp-TinyAI-catalog-progress');
      bar.max = 1;
      bar.value = pull?.progress?.fraction ?? 0;
      const cancel = el(
        'button',
        'jp-TinyAI-catalog-cancel jp-mod-styled jp-mod-warn',
        trans.__('Cancel')
      );
      cancel.addEventListener('click', () => void model.cancel(entry.name));
      actions.append(bar, cancel);
    } else if (pull?.state !== 'done' && !entry.pulled) {
      const download = el(
        'button',
        'jp-TinyAI-catalog-download jp-mod-styled jp-mod-accept',
        pull ? trans.__('Download again') : trans.__('Download')
      );
      download.title = entry.pull;
      download.addEventListener('click', () => void model.download(entry.name));
      actions.appendChild(download);
    }
    row.dataset.state = pull?.state ?? (entry.pulled ? 'done' : '');
    row.append(head, facts, line, actions);
    return row;
  }

  private _intro: HTMLParagraphElement;
  private _error: HTMLDivElement;
  private _list: HTMLDivElement;
}
