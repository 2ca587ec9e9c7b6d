/**
 * Whether the chat follows its newest message: it does after a prompt is sent and when a
 * conversation is opened; it stops when the user scrolls up, and then new text is counted as
 * unseen (the view shows "↓ new messages") until the user is back at the bottom.
 */
import { ISignal, Signal } from '@lumino/signaling';

export class ScrollFollow {
  /** Emitted when `unseen` changes. */
  get changed(): ISignal<ScrollFollow, void> {
    return this._changed;
  }

  /** Whether the view keeps the newest message in view. */
  get following(): boolean {
    return this._following;
  }

  /** Whether text arrived below while the user was scrolled up. */
  get unseen(): boolean {
    return this._unseen;
  }

  /** The user scrolled: following again once at the bottom, not while above it. */
  scrolled(atBottom: boolean): void {
    this._following = atBottom;
    if (atBottom) {
      this._setUnseen(false);
    }
  }

  /**
   * The chat changed: `conversation` shown, `prompts` sent in it, `content` a signature of
   * its text. True when the view should scroll to the newest message.
   */
  update(conversation: string, prompts: number, content: string): boolean {
    if (conversation !== this._conversation || prompts > this._prompts) {
      this._following = true; // opened, or a prompt just sent: show the newest
    } else if (!this._following && content !== this._content) {
      this._setUnseen(true);
    }
    this._conversation = conversation;
    this._prompts = prompts;
    this._content = content;
    return this._following;
  }

  /** "↓ new messages" was clicked. */
  jump(): void {
    this._following = true;
    this._setUnseen(false);
  }

  private _setUnseen(unseen: boolean): void {
    if (unseen !== this._unseen) {
      this._unseen = unseen;
      this._changed.emit();
    }
  }

  private _following = true;
  private _unseen = false;
  private _conversation: string | null = null;
  private _prompts = 0;
  private _content = '';
  private _changed = new Signal<ScrollFollow, void>(this);
}
