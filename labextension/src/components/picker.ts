/**
 * The model picker of the sidebar's header, a view of a ModelPicker (state/picker.ts): a
 * select with an arrow, the models by full name with the loaded one marked, the remotes
 * that are down (disabled), "Get more models…" when a catalog is wired in; under it, with
 * one model only, how to add more, and while the bundled model is in use a "tiny model"
 * note (with the server's hint for a better one, when it gives one).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { caretDownEmptyIcon } from '@jupyterlab/ui-components';

import { ModelPicker } from '../state/picker';
import { el } from './dom';

/** The value of the "Get more models…" entry (never a model id: ids have a ':'). */
export const MORE_MODELS = 'tinyai-get-more-models';

export class PickerView {
  constructor(
    private _picker: ModelPicker,
    private _trans: TranslationBundle,
    pick: (id: string) => void
  ) {
    const trans = _trans;
    this.node = el('div', 'jp-TinyAI-model');
    // The native select, transparent, over a display of the chosen model that shows its
    // whole name (wrapped if need be) and whether it is loaded: never cut to "(loa".
    const wrapper = el('div', 'jp-TinyAI-model-wrapper');
    this._name = el('span', 'jp-TinyAI-model-name');
    this._badge = el('span', 'jp-TinyAI-model-badge');
    const display = el('div', 'jp-TinyAI-model-display');
    display.setAttribute('aria-hidden', 'true');
    display.append(
      this._name,
      this._badge,
      caretDownEmptyIcon.element({
        tag: 'span',
        className: 'jp-TinyAI-model-caret'
      })
    );
    this.select = el('select', 'jp-TinyAI-model-select');
    this.select.title = trans.__('Model used for the next answer');
    this.select.setAttribute('aria-label', trans.__('Model'));
    this.select.addEventListener('change', () => {
      if (this.select.value === MORE_MODELS) {
        this.select.value = this._picker.chosen;
        this._picker.getMoreModels();
        return;
      }
      pick(this.select.value);
    });
    // Models added since (a download, `models --add`) appear when the picker is opened.
    this.select.addEventListener('focus', () => this._picker.onOpen?.());
    wrapper.append(display, this.select);
    this._hint = el('div', 'jp-TinyAI-model-hint');
    this._note = el('div', 'jp-TinyAI-model-note');
    this.node.append(wrapper, this._hint, this._note);
    _picker.changed.connect(this._render, this);
    this._render();
  }

  readonly node: HTMLDivElement;
  readonly select: HTMLSelectElement;

  dispose(): void {
    this._picker.changed.disconnect(this._render, this);
  }

  private _render(): void {
    const trans = this._trans;
    const picker = this._picker;
    this.select.textContent = '';
    for (const o of picker.options) {
      const option = el(
        'option',
        o.id === null ? 'jp-TinyAI-model-warning' : '',
        o.label
      );
      if (o.id === null) {
        option.disabled = true;
      } else {
        option.value = o.id;
      }
      option.title = o.title;
      this.select.appendChild(option);
    }
    if (picker.onGetMoreModels) {
      const more = el(
        'option',
        'jp-TinyAI-model-more',
        trans.__('Get more models…')
      );
      more.value = MORE_MODELS;
      this.select.appendChild(more);
    }
    this.select.value = picker.chosen;
    const chosen = picker.options.find(o => o.id === picker.chosen);
    this._name.textContent = chosen ? chosen.name : trans.__('No model found');
    this._badge.textContent =
      picker.chosen && picker.chosen === picker.loading
        ? trans.__('loading…')
        : picker.chosen && picker.chosen === picker.loaded
          ? trans.__('loaded')
          : '';
    this._badge.hidden = !this._badge.textContent;
    this.select.title = picker.chosen
      ? trans.__('Model used for the next answer: %1', picker.chosen)
      : trans.__('Model used for the next answer');

    this._hint.hidden = !picker.single || !!(picker.bundled && picker.hint);
    this._hint.textContent = '';
    if (picker.onGetMoreModels) {
      this._hint.textContent = trans.__(
        'Only one model: pick “Get more models…” above to add one.'
      );
    } else {
      this._hint.append(
        trans.__('Only one model. Add one with '),
        el('code', '', 'jupyter tinyai pull NAME')
      );
    }

    this._note.textContent = '';
    this._note.hidden = !picker.bundled;
    if (picker.bundled) {
      const hint = picker.hint; // the server's own words say it is tiny, and what to get
      this._note.append(
        el(
          'span',
          'jp-TinyAI-model-note-text',
          hint?.text ?? trans.__('tiny model — for trying things out')
        )
      );
      if (hint?.command) {
        this._note.append(
          ' ',
          el('code', 'jp-TinyAI-model-note-command', hint.command)
        );
      }
    }
  }

  private _name: HTMLSpanElement;
  private _badge: HTMLSpanElement;
  private _hint: HTMLDivElement;
  private _note: HTMLDivElement;
}
