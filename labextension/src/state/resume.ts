/**
 * Which conversation the sidebar showed last for each notebook, kept in the browser's
 * storage so that a reload reopens it.
 */

/** The part of the browser's Storage used here. */
export interface IKeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The browser's localStorage; reading it throws where storage is disabled. */
export function browserStorage(): IKeyValueStore | null {
  return globalThis.localStorage ?? null;
}

export class LastConversation {
  constructor(storage: () => IKeyValueStore | null = browserStorage) {
    this._storage = storage;
  }

  remember(notebook: string | null, conversation: string): void {
    try {
      this._storage()?.setItem(LastConversation.key(notebook), conversation);
    } catch {
      // storage may be disabled: resuming then picks the most recent conversation
    }
  }

  recall(notebook: string | null): string | null {
    try {
      return this._storage()?.getItem(LastConversation.key(notebook)) ?? null;
    } catch {
      return null;
    }
  }

  static key(notebook: string | null): string {
    return `jupyter-tinyai:last:${notebook ?? ''}`;
  }

  private _storage: () => IKeyValueStore | null;
}
