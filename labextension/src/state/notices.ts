/**
 * Warnings from the server (a model file that cannot be read, a damaged chat history file
 * set aside): each line is shown once for the life of the sidebar, until dismissed.
 */
import { ISignal, Signal } from '@lumino/signaling';

export class Notices {
  /** Emitted when a line is added or dismissed. */
  get changed(): ISignal<Notices, void> {
    return this._changed;
  }

  /** The lines on screen, oldest first. */
  get lines(): ReadonlyArray<string> {
    return this._lines;
  }

  /** Show each line not shown before; a line seen once never comes back, even dismissed. */
  add(lines: ReadonlyArray<string> | undefined): void {
    let added = false;
    for (const line of lines ?? []) {
      if (this._seen.has(line)) {
        continue;
      }
      this._seen.add(line);
      this._lines.push(line);
      added = true;
    }
    if (added) {
      this._changed.emit();
    }
  }

  dismiss(line: string): void {
    const index = this._lines.indexOf(line);
    if (index >= 0) {
      this._lines.splice(index, 1);
      this._changed.emit();
    }
  }

  private _lines: string[] = [];
  private _seen = new Set<string>();
  private _changed = new Signal<Notices, void>(this);
}
