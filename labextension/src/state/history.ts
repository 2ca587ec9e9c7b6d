/**
 * The History list: the conversations of the active notebook, newest first, and whether
 * the list is open.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IConversationSummary } from '../tokens';

/** `conversations` newest first (by `updated`, numbers or ISO strings). */
export function newestFirst(
  conversations: ReadonlyArray<IConversationSummary>
): IConversationSummary[] {
  const sorted = [...conversations];
  sorted.sort((a, b) => (String(a.updated) < String(b.updated) ? 1 : -1));
  if (sorted.every(c => typeof c.updated === 'number')) {
    sorted.sort((a, b) => Number(b.updated) - Number(a.updated));
  }
  return sorted;
}

export class ConversationList {
  /** Emitted when the list, its error or its open state change. */
  get changed(): ISignal<ConversationList, void> {
    return this._changed;
  }

  get open(): boolean {
    return this._open;
  }

  /** The notebook whose conversations are listed (null: no notebook). */
  get notebook(): string | null {
    return this._notebook;
  }

  /** Newest first. */
  get conversations(): ReadonlyArray<IConversationSummary> {
    return this._conversations;
  }

  /** Why the list could not be read, when it could not. */
  get error(): string | null {
    return this._error;
  }

  setOpen(open: boolean): void {
    if (open !== this._open) {
      this._open = open;
      this._changed.emit();
    }
  }

  /** Show the conversations of `notebook`. */
  show(
    notebook: string | null,
    conversations: ReadonlyArray<IConversationSummary>
  ): void {
    this._notebook = notebook;
    this._conversations = newestFirst(conversations);
    this._error = null;
    this._changed.emit();
  }

  /** The list could not be read: say why, in its place. */
  fail(message: string): void {
    this._error = message;
    this._changed.emit();
  }

  private _open = false;
  private _notebook: string | null = null;
  private _conversations: IConversationSummary[] = [];
  private _error: string | null = null;
  private _changed = new Signal<ConversationList, void>(this);
}
