/**
 * What is sent with a prompt ("Include"): the choice of source, and a preview of exactly
 * what that source gives right now (the view shows it as "Will send: …").
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ContextSource, IContextPiece } from '../tokens';
import { ITrans, plainTrans } from '../trans';

/** Reads the context pieces of a source from the active notebook (context.ts). */
export type Gather = (source: ContextSource) => IContextPiece[];

export class IncludeChoice {
  constructor(
    gather: Gather,
    source: ContextSource,
    trans: ITrans = plainTrans
  ) {
    this._gather = gather;
    this._source = source;
    this._trans = trans;
    this._pieces = gather(source);
  }

  /** Emitted when the choice or its preview is updated. */
  get changed(): ISignal<IncludeChoice, void> {
    return this._changed;
  }

  get source(): ContextSource {
    return this._source;
  }

  /** What the choice gives, as of the last refresh. */
  get pieces(): ReadonlyArray<IContextPiece> {
    return this._pieces;
  }

  /** One line saying what will be sent. */
  get summary(): string {
    const trans = this._trans;
    if (this._source === 'none') {
      return trans.__('Only your prompt is sent.');
    }
    const first = this._pieces[0];
    if (!first) {
      return trans.__('Nothing to include right now.');
    }
    return trans.__(
      'Will send: %1 (%2 characters)',
      first.label,
      first.text.length
    );
  }

  setSource(source: ContextSource): void {
    this._source = source;
    this.refresh();
  }

  /** Read the preview again (the notebook, its active cell or the selection changed). */
  refresh(): void {
    this._pieces = this._gather(this._source);
    this._changed.emit();
  }

  /** The pieces to send with a prompt now (read afresh, not the preview's). */
  gather(): IContextPiece[] {
    return this._gather(this._source);
  }

  private _gather: Gather;
  private _source: ContextSource;
  private _trans: ITrans;
  private _pieces: IContextPiece[];
  private _changed = new Signal<IncludeChoice, void>(this);
}
