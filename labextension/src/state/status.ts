/**
 * The status line under the prompt box: the model, its backend and the last answer's
 * speed, or why the status could not be read.
 */
import { ISignal, Signal } from '@lumino/signaling';

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

  /** Set when the text is an error (the status could not be read). */
  get error(): boolean {
    return this._error;
  }

  /** The server's status (`GET /tinyai/status`). */
  showStatus(status: IStatus): void {
    this._error = false;
    this._show(
      status.model?.name ?? status.model?.id ?? null,
      status.last ?? null,
      status.backend ?? null
    );
  }

  /** The figures of an answer that just ended, by `model`. */
  showStats(model: string | null | undefined, stats: IStats): void {
    this._show(model, stats);
  }

  showError(message: string): void {
    this._error = true;
    this._text = message;
    this._changed.emit();
  }

  private _show(
    model: string | null | undefined,
    last: IStats | null,
    backend?: string | null
  ): void {
    const trans = this._trans;
    const parts = [model ? model : trans.__('no model loaded')];
    if (backend || last?.backend) {
      parts.push(String(backend ?? last?.backend));
    }
    if (last && typeof last.tokens_per_s === 'number') {
      parts.push(trans.__('%1 tokens/s', last.tokens_per_s.toFixed(1)));
    }
    this._text = parts.join(' · ');
    this._changed.emit();
  }

  private _trans: ITrans;
  private _text = '';
  private _error = false;
  private _changed = new Signal<StatusLine, void>(this);
}
