/**
 * What is sent with a prompt ("Include"): the choice of source (remembered across reloads),
 * the pieces it attaches right now (shown as chips above the prompt), and the chips the user
 * removed. Nothing is attached unless the user chose it: the default source, "nothing",
 * attaches only a selection when there is one.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ContextSource, IContextPiece } from '../tokens';
import { ITrans, plainTrans } from '../trans';
import { IKeyValueStore, browserStorage } from './resume';

/** Reads the context pieces of a source from the active notebook (context.ts). */
export type Gather = (source: ContextSource) => IContextPiece[];

const SOURCES: ContextSource[] = ['none', 'cell', 'selection', 'error'];

/** The kind of a notebook cell as a context piece names it. */
export function cellKind(type: string): string {
  switch (type) {
    case 'markdown':
      return 'Markdown';
    case 'raw':
      return 'Raw';
    default:
      return 'Code';
  }
}

/** "cell 3", or "cell 3 [7]" for a code cell that ran (execution count 7). */
export function cellName(index: number, count?: number | null): string {
  return count ? `cell ${index} [${count}]` : `cell ${index}`;
}

function key(piece: IContextPiece): string {
  return `${piece.label}\u0000${piece.text}`;
}

export class IncludeChoice {
  constructor(
    gather: Gather,
    source: ContextSource,
    trans: ITrans = plainTrans,
    storage: () => IKeyValueStore | null = browserStorage
  ) {
    this._gather = gather;
    this._trans = trans;
    this._storage = storage;
    this._source = this._recall() ?? source;
    this._pieces = this._read();
  }

  static readonly storageKey = 'jupyter-tinyai:include';

  /** Emitted when the choice or its pieces are updated. */
  get changed(): ISignal<IncludeChoice, void> {
    return this._changed;
  }

  get source(): ContextSource {
    return this._source;
  }

  /** What will be attached, as of the last refresh (without the removed chips). */
  get pieces(): ReadonlyArray<IContextPiece> {
    return this._pieces;
  }

  /** One line saying what will be sent. */
  get summary(): string {
    const trans = this._trans;
    const first = this._pieces[0];
    if (!first) {
      return this._source === 'none'
        ? trans.__('Only your prompt is sent.')
        : trans.__('Nothing to include right now.');
    }
    return trans.__(
      'Will send: %1 (%2 characters)',
      first.label,
      first.text.length
    );
  }

  /** The user's choice: used now and remembered (across reloads). */
  setSource(source: ContextSource): void {
    this._source = source;
    try {
      this._storage()?.setItem(IncludeChoice.storageKey, source);
    } catch {
      // storage disabled: the choice lasts until the page is reloaded
    }
    this.refresh();
  }

  /** The default from the settings: used only while the user has not chosen. */
  setDefault(source: ContextSource): void {
    if (this._recall() === null && source !== this._source) {
      this._source = source;
      this.refresh();
    }
  }

  /** Take a chip off: that piece is not sent (until it changes, e.g. another selection). */
  remove(piece: IContextPiece): void {
    this._removed.add(key(piece));
    this.refresh();
  }

  /** Read the pieces again (the notebook, its active cell or the selection changed). */
  refresh(): void {
    this._pieces = this._read();
    this._changed.emit();
  }

  /** The pieces to send with a prompt now (read afresh, not the preview's). */
  gather(): IContextPiece[] {
    return this._read();
  }

  private _read(): IContextPiece[] {
    const all = this._gather(this._source);
    const present = new Set(all.map(key));
    for (const k of [...this._removed]) {
      if (!present.has(k)) {
        this._removed.delete(k); // it changed: a new piece is attached again
      }
    }
    return all.filter(p => !this._removed.has(key(p)));
  }

  private _recall(): ContextSource | null {
    try {
      const value = this._storage()?.getItem(IncludeChoice.storageKey);
      return SOURCES.includes(value as ContextSource)
        ? (value as ContextSource)
        : null;
    } catch {
      return null;
    }
  }

  private _gather: Gather;
  private _source: ContextSource;
  private _trans: ITrans;
  private _storage: () => IKeyValueStore | null;
  private _pieces: IContextPiece[];
  private _removed = new Set<string>();
  private _changed = new Signal<IncludeChoice, void>(this);
}
