/**
 * The status line under the prompt box: the host's model (by name), where it runs (the
 * placement: "CPU, 2 threads", "Metal, 30/30 layers") and that model's last speed, whoever
 * asked (the sidebar, a notebook's magics); "Loading X…" while a model loads; or why the
 * status could not be read. It follows the host's pushed snapshots (modelstate.ts).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IModelBrief, IModelState } from '../modelstate';
import { IStats, IStatus } from '../tokens';
import { ITrans, plainTrans } from '../trans';

export class StatusLine {
  constructor(trans: ITrans = plainTrans) {
    this._trans = trans;
  }

  get changed(): ISignal<StatusLine, void> {
    return this._changed;
  }

  get text(): string {
    return this._text;
  }

  /** Set when the text is an error (the status could not be read, a load failed). */
  get error(): boolean {
    return this._error;
  }

  /** The host's snapshot of its model (pushed on every change). */
  follow(state: IModelState): void {
    const trans = this._trans;
    this._model = state.model;
    this._placement = state.placement;
    if (state.loading) {
      this._set(
        trans.__('Loading %1…', state.loading.name || state.loading.id)
      );
    } else if (state.event === 'failed' && state.error) {
      this._set(trans.__('Could not load %1', state.error), true);
    } else {
      this._show(state.model?.id ?? null, state.last);
    }
  }

  /** The server's status (`GET /tinyai/status`). */
  showStatus(status: IStatus): void {
    const model = status.model;
    this._model = model
      ? { id: model.id, name: model.name || model.id, source: model.source }
      : null;
    this._placement = (status.placement as string | null | undefined) ?? null;
    this._show(model?.id ?? null, status.last ?? null);
  }

  /** The figures of an answer that just ended, by `model` (an id). */
  showStats(model: string | null | undefined, stats: IStats): void {
    if (model && this._model?.id !== model) {
      this._model = { id: model, name: model };
      this._placement = null;
    }
    this._show(model ?? null, stats);
  }

  showError(message: string): void {
    this._set(message, true);
  }

  /** `model · placement · speed`; the speed only when `last` is this model's. */
  private _show(model: string | null, last: IStats | null): void {
    const trans = this._trans;
    if (!model) {
      this._set(trans.__('no model loaded'));
      return;
    }
    const name = this._model?.id === model ? this._model.name : model;
    const parts = [name];
    const placement = last?.placement || this._placement;
    if (placement) {
      parts.push(placement);
    }
    if (last && last.model === model && typeof last.tokens_per_s === 'number') {
      parts.push(trans.__('%1 tokens/s', last.tokens_per_s.toFixed(1)));
    }
    this._set(parts.join(' · '));
  }

  private _set(text: string, error = false): void {
    this._text = text;
    this._error = error;
    this._changed.emit();
  }

  private _trans: ITrans;
  private _text = '';
  private _error = false;
  private _model: IModelBrief | null = null;
  private _placement: string | null = null;
  private _changed = new Signal<StatusLine, void>(this);
}
