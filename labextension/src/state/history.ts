/**
 * The History list: the active notebook's conversations and those started with no notebook
 * open, newest first; whether the list is open; a deletion that can still be undone.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IConversationSummary } from '../tokens';
import { ITrans, plainTrans } from '../trans';

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

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", else the date. */
export function relativeTime(
  when: string | number,
  now: number,
  trans: ITrans = plainTrans
): string {
  const t = typeof when === 'number' ? when * 1000 : Date.parse(when);
  if (!Number.isFinite(t)) {
    return '';
  }
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) {
    return trans.__('just now');
  }
  if (s < 3600) {
    return trans.__('%1 min ago', Math.floor(s / 60));
  }
  if (s < 86400) {
    return trans.__('%1 h ago', Math.floor(s / 3600));
  }
  const days = Math.floor(s / 86400);
  if (days === 1) {
    return trans.__('yesterday');
  }
  if (days < 7) {
    return trans.__('%1 days ago', days);
  }
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * What tells a conversation apart from others with the same title: its last prompt when it
 * has one, else nothing (the date does the rest).
 */
export function subtitle(
  c: IConversationSummary,
  all: ReadonlyArray<IConversationSummary>
): string {
  const alike = all.some(o => o !== c && o.title === c.title);
  return alike || c.last_prompt ? (c.last_prompt ?? '') : '';
}

export class ConversationList {
  /** Emitted when the lists, the error, the open state or the pending deletion change. */
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

  /** The notebook's conversations, newest first. */
  get conversations(): ReadonlyArray<IConversationSummary> {
    return this._conversations.filter(c => c.id !== this._pending?.id);
  }

  /** The conversations started with no notebook open, newest first. */
  get loose(): ReadonlyArray<IConversationSummary> {
    return this._loose.filter(c => c.id !== this._pending?.id);
  }

  /** The conversation deleted a moment ago, while it can be undone. */
  get pending(): IConversationSummary | null {
    return this._pending;
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

  /** Show the conversations of `notebook` and those of no notebook (`loose`). */
  show(
    notebook: string | null,
    conversations: ReadonlyArray<IConversationSummary>,
    loose: ReadonlyArray<IConversationSummary> = []
  ): void {
    this._notebook = notebook;
    this._conversations = notebook === null ? [] : newestFirst(conversations);
    this._loose = newestFirst(loose);
    this._error = null;
    this._changed.emit();
  }

  /** A conversation was deleted: out of the lists, and undoable until `settle`. */
  setPending(id: string | null): IConversationSummary | null {
    const all = [...this._conversations, ...this._loose];
    this._pending = id === null ? null : (all.find(c => c.id === id) ?? null);
    this._changed.emit();
    return this._pending;
  }

  /** The list could not be read: say why, in its place. */
  fail(message: string): void {
    this._error = message;
    this._changed.emit();
  }

  private _open = false;
  private _notebook: string | null = null;
  private _conversations: IConversationSummary[] = [];
  private _loose: IConversationSummary[] = [];
  private _pending: IConversationSummary | null = null;
  private _error: string | null = null;
  private _changed = new Signal<ConversationList, void>(this);
}
