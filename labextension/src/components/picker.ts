/**
 * The model picker of the sidebar, a view of a ModelPicker (state/picker.ts): a select
 * with the models, the loaded one marked, and the remotes that are down, disabled.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ModelPicker } from '../state/picker';
import { el } from './dom';

export class PickerView {
  constructor(
    private _picker: ModelPicker,
    trans: TranslationBundle,
    pick: (id: string) => void
  ) {
    this.node = el('select', 'jp-TinyAI-model-select jp-mod-styled');
    this.node.title = trans.__('Model used for the next answer');
    this.node.setAttribute('aria-label', trans.__('Model'));
    this.node.addEventListener('change', () => pick(this.node.value));
    _picker.changed.connect(this._render, this);
  }

  readonly node: HTMLSelectElement;

  dispose(): void {
    this._picker.changed.disconnect(this._render, this);
  }

  private _render(): void {
    this.node.textContent = '';
    for (const o of this._picker.options) {
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
      this.node.appendChild(option);
    }
    this.node.value = this._picker.chosen;
  }
}
