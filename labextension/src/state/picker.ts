/**
 * The model picker: the models the server lists, the remotes that are down (shown, not
 * pickable), which model is loaded, and the one chosen for the next question.
 *
 * The choice is the user's pick, else the configured default, else the server's default:
 * never whatever another notebook or the CLI left loaded.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IModelList } from '../tokens';
import { ITrans, plainTrans } from '../trans';

/** One entry of the picker. */
export interface IPickerOption {
  /** The model id; null for a remote that is down (shown, not pickable). */
  id: string | null;
  label: string;
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

  /** The model the server has loaded, if any. */
  get loaded(): string | null {
    return this._loaded;
  }

  /**
   * Show a list from the server, keeping the user's pick if it is still listed, else
   * `configuredDefault` (the user's setting), else the server's default, else the first model.
   */
  update(list: IModelList, configuredDefault: string): void {
    const trans = this._trans;
    this._loaded = list.loaded;
    const wanted = this._chosen || configuredDefault || list.default || '';
    this._options = list.models.map(m => ({
      id: m.id,
      label:
        m.id === list.loaded
          ? trans.__('%1 (loaded)', m.name || m.id)
          : m.name || m.id,
      title: [m.id, m.backend, m.quantization, m.path]
        .filter(Boolean)
        .join(' · '),
      loaded: m.id === list.loaded
    }));
    for (const w of (list.warnings ?? []).filter(w => w.remote)) {
      this._options.push({
        id: null,
        label: trans.__('%1: not available', w.remote),
        title: w.message,
        loaded: false
      });
    }
    const ids = list.models.map(m => m.id);
    this._chosen = ids.includes(wanted) ? wanted : (ids[0] ?? '');
    this._changed.emit();
  }

  /** The user picked `id`; true when it has to be loaded (it is not the loaded model). */
  choose(id: string): boolean {
    if (id !== this._chosen) {
      this._chosen = id;
      this._changed.emit();
    }
    return !!id && id !== this._loaded;
  }

  private _trans: ITrans;
  private _options: IPickerOption[] = [];
  private _chosen = '';
  private _loaded: string | null = null;
  private _changed = new Signal<ModelPicker, void>(this);
}
