/**
 * The model picker: the models the server lists, the remotes that are down (shown, not
 * pickable), and the model the next question gets.
 *
 * One model state: the host's model is the truth. The picker follows the host's pushed
 * snapshots (modelstate.ts): a model picked anywhere (a notebook's `%tinyai use`, the
 * `%tinyai` panel, the CLI, this picker) is the one shown here, and the one the next
 * answer gets; a model the list does not have yet asks for a new list.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IModelState } from '../modelstate';
import { IModelList } from '../tokens';
import { ITrans, plainTrans } from '../trans';

/** One entry of the picker. */
export interface IPickerOption {
  /** The model id; null for a remote that is down (shown, not pickable). */
  id: string | null;
  /** The name with "(loaded)" / "(loading…)" when it is. */
  label: string;
  /** The name alone. */
  name: string;
  /** The tooltip: id, backend, quantization, path (or why a remote is not available). */
  title: string;
  loaded: boolean;
}

export class ModelPicker {
  constructor(trans: ITrans = plainTrans) {
    this._trans = trans;
  }

  /** Emitted when the options, the loaded model or the choice change. */
  get changed(): ISignal<ModelPicker, void> {
    return this._changed;
  }

  /** The models (pickable), then the remotes that are down (not pickable). */
  get options(): ReadonlyArray<IPickerOption> {
    return this._options;
  }

  /** The model sent with the next question; '' when there is none. */
  get chosen(): string {
    return this._chosen;
  }

  /** The model the host has loaded, if any. */
  get loaded(): string | null {
    return this._loaded;
  }

  /** The model the host is loading, if any. */
  get loading(): string | null {
    return this._loading;
  }

  /** Set when only one model can be picked: the view says how to get more. */
  get single(): boolean {
    return this._options.filter(o => o.id !== null).length === 1;
  }

  /** The model in use (loading, else loaded, else the choice) is the bundled tiny one. */
  get bundled(): boolean {
    const current = this._loading ?? this._loaded ?? this._chosen;
    const model = this._list.models.find(m => m.id === current);
    return (model?.source ?? this._sources.get(current ?? '')) === 'bundled';
  }

  /** The server's hint for a better model ({text, command}), if it gives one. */
  get hint(): { text: string; command: string } | null {
    const hint = this._list.hint;
    return hint && typeof hint.text === 'string' ? hint : null;
  }

  /**
   * Opens the model catalog ("Get more models…"); set by whoever provides one. The view
   * shows the entry only when it is set.
   */
  onGetMoreModels: (() => void) | null = null;

  /**
   * Show a list from the server. The choice is the host's loaded model, else the user's
   * pick if it is still listed, else `configuredDefault` (the user's setting), else the
   * server's default, else the first model.
   */
  update(list: IModelList, configuredDefault: string): void {
    const before = JSON.stringify([this._list, this._chosen, this._loaded]);
    this._list = list;
    if (list.loaded !== undefined && !this._followed) {
      this._loaded = list.loaded;
    }
    const ids = list.models.map(m => m.id);
    const wanted =
      this._loading ||
      this._loaded ||
      this._chosen ||
      configuredDefault ||
      list.default ||
      '';
    this._chosen = ids.includes(wanted) ? wanted : (ids[0] ?? '');
    if (JSON.stringify([list, this._chosen, this._loaded]) !== before) {
      this._relabel(); // (an open dropdown is redrawn only when something changed)
    }
  }

  /**
   * The host's snapshot of its model: the loaded (or loading) model becomes the choice.
   * Returns true when that model is not in the list (read the list again).
   */
  follow(state: IModelState): boolean {
    this._followed = true;
    for (const m of [state.model, state.loading]) {
      if (m?.source) {
        this._sources.set(m.id, m.source);
      }
    }
    this._loaded = state.model?.id ?? null;
    this._loading = state.loading?.id ?? null;
    const current = this._loading ?? this._loaded;
    if (current) {
      this._chosen = current;
    }
    this._relabel();
    return !!current && !this._options.some(o => o.id === current);
  }

  /** The user picked `id`; true when it has to be loaded (it is not the loaded model). */
  choose(id: string): boolean {
    if (id !== this._chosen) {
      this._chosen = id;
      this._changed.emit();
    }
    return !!id && id !== this._loaded;
  }

  /** Reads the model list again (set by the sidebar); called when the picker is opened. */
  onOpen: (() => void) | null = null;

  /** "Get more models…" was picked. */
  getMoreModels(): void {
    this.onGetMoreModels?.();
  }

  private _relabel(): void {
    const trans = this._trans;
    const list = this._list;
    this._options = list.models.map(m => {
      const name = m.name || m.id;
      const label =
        m.id === this._loading
          ? trans.__('%1 (loading…)', name)
          : m.id === this._loaded
            ? trans.__('%1 (loaded)', name)
            : name;
      return {
        id: m.id,
        label,
        name,
        title: [m.id, m.backend, m.quantization, m.path]
          .filter(Boolean)
          .join(' · '),
        loaded: m.id === this._loaded
      };
    });
    for (const w of (list.warnings ?? []).filter(w => w.remote)) {
      this._options.push({
        id: null,
        label: trans.__('%1: not available', w.remote),
        name: String(w.remote),
        title: w.message,
        loaded: false
      });
    }
    this._changed.emit();
  }

  private _trans: ITrans;
  private _list: IModelList = {
    models: [],
    loaded: null,
    default: null
  };
  private _options: IPickerOption[] = [];
  private _chosen = '';
  private _loaded: string | null = null;
  private _loading: string | null = null;
  /** Set once a pushed snapshot came: from then on it, not the list, says what is loaded. */
  private _followed = false;
  private _sources = new Map<string, string>();
  private _changed = new Signal<ModelPicker, void>(this);
}
