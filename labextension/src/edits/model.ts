/**
 * The state of one proposed edit of a cell: the request, the answer as it streams, then the
 * proposed cell (or the one line saying why there is none), until the user accepts or
 * rejects it. No DOM and no JupyterLab imports here, so it is unit-tested with Jest.
 *
 * The server's `POST tinyai/edit` streams JSON lines (see jupyter_tinyai/server/edit.py):
 * queued, progress, start, token…, then done (the whole proposed cell as `code`, null when
 * there is nothing to apply, and `message`, the one line saying why) or error. Stopping
 * aborts the request: the server stops the answer when the connection closes.
 *
 * With a conversation id, the server also records the turn in the chat history as an inline
 * one (the request, then the proposal as the answer) and its done line names it: "Continue in
 * sidebar" then opens that conversation in the sidebar, and the proposal stays under the cell.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { errorTitle } from '../model';
import { ITrans, plainTrans } from '../trans';
import { IStats } from '../tokens';

/** What to rewrite: the cell's source, and an instruction and/or the error it raised. */
export interface IEditTarget {
  code: string;
  instruction?: string;
  error?: string;
  /** [start, end) character offsets in `code`: only this part is rewritten. */
  selection?: [number, number] | null;
}

/** The body of `POST tinyai/edit`. */
export interface IEditRequest extends IEditTarget {
  model?: string;
  max_tokens?: number;
  /** Record the turn in the chat history under this id (inline until continued). */
  conversation?: string;
  notebook?: string;
  /** The cell's name in the recorded context ("cell 3"). */
  cell?: string;
}

/** One line of the answer's stream. */
export interface IEditMessage {
  type: 'queued' | 'progress' | 'start' | 'token' | 'done' | 'error';
  position?: number;
  fraction?: number;
  message?: string | null;
  model?: string;
  text?: string;
  code?: string | null;
  diff?: string;
  stats?: IStats | null;
  kind?: string;
  /** (done) the conversation the turn was recorded in */
  conversation?: string;
}

/** How an edit reaches the server: `stream` calls `onMessage` for each line until the end. */
export interface IEditTransport {
  stream(
    request: IEditRequest,
    onMessage: (message: IEditMessage) => void,
    signal: AbortSignal
  ): Promise<void>;
}

export type EditPhase =
  | 'idle'
  | 'sending'
  | 'queued'
  | 'loading'
  | 'streaming'
  | 'stopping'
  | 'proposed' // a new cell to show as a diff, then accept or reject
  | 'nothing' // the answer has nothing to apply: `message` says why
  | 'failed'
  | 'accepted'
  | 'rejected';

export interface IEditModelOptions {
  transport: IEditTransport;
  trans?: ITrans;
  newId?: () => string;
  /** Runs `callback` before the next paint; default: requestAnimationFrame. */
  schedule?: (callback: () => void) => void;
}

export interface IEditStartOptions {
  notebook?: string | null;
  model?: string;
  maxTokens?: number | null;
  /** A new conversation id to record the turn under, for "Continue in sidebar". */
  conversation?: string | null;
  /** The cell's name for the recorded context ("cell 3"). */
  cell?: string;
}

function defaultSchedule(callback: () => void): void {
  if (typeof requestAnimationFrame === 'function') {
    requestAnimationFrame(() => callback());
  } else {
    setTimeout(callback, 16);
  }
}

export class EditModel {
  constructor(options: IEditModelOptions) {
    this._transport = options.transport;
    this._trans = options.trans ?? plainTrans;
    this._schedule = options.schedule ?? defaultSchedule;
  }

  /** Emitted when the phase, the text or the status change (at most once a frame for tokens). */
  get changed(): ISignal<EditModel, void> {
    return this._changed;
  }

  get phase(): EditPhase {
    return this._phase;
  }

  /** Whether a request is running (it can be stopped). */
  get busy(): boolean {
    return ['sending', 'queued', 'loading', 'streaming', 'stopping'].includes(
      this._phase
    );
  }

  /** The cell's source the proposal is a change of. */
  get original(): string {
    return this._target?.code ?? '';
  }

  get target(): IEditTarget | null {
    return this._target;
  }

  /** The model's answer so far (what streams under the cell). */
  get text(): string {
    return this._text;
  }

  /** The whole proposed cell, once there is one. */
  get proposal(): string | null {
    return this._proposal;
  }

  /** One line for the user: why there is nothing to apply, what failed, where the request waits. */
  get status(): string {
    return this._status;
  }

  get stats(): IStats | null {
    return this._stats;
  }

  get notebook(): string | null {
    return this._notebook;
  }

  /** The chat history's conversation holding this edit's turn, once the server recorded it. */
  get conversation(): string | null {
    return this._conversation;
  }

  /** Whether "Continue in sidebar" can be used: the turn is recorded and the answer over. */
  get canContinue(): boolean {
    return (
      this._conversation !== null &&
      !this._continued &&
      (this._phase === 'proposed' || this._phase === 'nothing')
    );
  }

  /** Whether the conversation was opened in the sidebar. */
  get continued(): boolean {
    return this._continued;
  }

  /**
   * Go on talking in the sidebar: `open` shows the recorded conversation there; the proposal
   * stays (it can still be accepted). When `open` fails, the status line says why.
   */
  async continueInSidebar(
    open: (conversation: string) => Promise<void>
  ): Promise<boolean> {
    const id = this._conversation;
    if (!this.canContinue || id === null) {
      return false;
    }
    this._continued = true;
    this._changed.emit();
    try {
      await open(id);
      return true;
    } catch (error) {
      this._continued = false;
      this._status = this._trans.__(
        'Could not open this conversation in the sidebar: %1',
        String((error as Error)?.message ?? error)
      );
      if (!this._disposed) {
        this._changed.emit();
      }
      return false;
    }
  }

  /** Ask the model for a new version of `target`; false when one is running already. */
  start(target: IEditTarget, options: IEditStartOptions = {}): boolean {
    if (this.busy || this._disposed) {
      return false;
    }
    this._target = { ...target };
    this._notebook = options.notebook ?? null;
    this._text = '';
    this._proposal = null;
    this._status = '';
    this._conversation = null;
    this._continued = false;
    this._phase = 'sending';
    const request: IEditRequest = { code: target.code };
    if (target.instruction) {
      request.instruction = target.instruction;
    }
    if (target.error) {
      request.error = target.error;
    }
    if (target.selection) {
      request.selection = [target.selection[0], target.selection[1]];
    }
    if (options.model) {
      request.model = options.model;
    }
    if (options.maxTokens) {
      request.max_tokens = options.maxTokens;
    }
    if (options.conversation) {
      request.conversation = options.conversation;
      if (options.notebook) {
        request.notebook = options.notebook;
      }
      if (options.cell) {
        request.cell = options.cell;
      }
    }
    const abort = new AbortController();
    this._abort = abort;
    this._changed.emit();
    this._transport
      .stream(request, message => this._onMessage(abort, message), abort.signal)
      .then(
        () => this._ended(abort),
        error => this._ended(abort, error)
      );
    return true;
  }

  /** Show `code` (say, a code block of the sidebar) as the proposed new version of `original`. */
  propose(original: string, code: string): void {
    this._target = { code: original };
    this._text = '';
    this._conversation = null; // (from the sidebar: nothing to continue there)
    this._proposal = code;
    this._phase = 'proposed';
    this._status = '';
    this._changed.emit();
  }

  /** Stop the running request (the server stops it within a token). */
  stop(): void {
    if (!this._abort || !this.busy) {
      return;
    }
    const abort = this._abort;
    this._abort = null;
    abort.abort();
    this._flush();
    this._phase = 'nothing';
    this._status = this._trans.__('Stopped: nothing to apply.');
    this._changed.emit();
  }

  /** The user took the proposal (the view has applied it to the cell). */
  accept(): void {
    if (this._phase === 'proposed') {
      this._phase = 'accepted';
      this._changed.emit();
    }
  }

  /** The user dismissed the proposal (or the request). */
  reject(): void {
    if (this.busy) {
      this.stop();
    }
    this._phase = 'rejected';
    this._changed.emit();
  }

  /** Show `text` as the status line (e.g. "the cell changed since"); the phase stays. */
  setStatus(text: string): void {
    this._status = text;
    this._changed.emit();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    if (this.busy) {
      this.stop();
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  private _onMessage(abort: AbortController, message: IEditMessage): void {
    if (abort !== this._abort || this._disposed) {
      return; // an earlier request's, or stopped
    }
    switch (message.type) {
      case 'queued':
        this._phase = 'queued';
        this._status =
          message.position && message.position > 0
            ? this._trans.__(
                'The model is busy with another answer: this edit is number %1 in the queue.',
                message.position
              )
            : this._trans.__(
                'The model is busy with another answer: this edit is next.'
              );
        this._changed.emit();
        break;
      case 'progress': {
        this._phase = 'loading';
        const pct =
          typeof message.fraction === 'number'
            ? ` ${Math.round(message.fraction * 100)}%`
            : '';
        this._status =
          (message.message || this._trans.__('Loading the model…')) + pct;
        this._changed.emit();
        break;
      }
      case 'start':
        this._phase = 'streaming';
        this._status = '';
        this._changed.emit();
        break;
      case 'token':
        this._phase = 'streaming';
        this._pending += message.text ?? '';
        this._requestFlush();
        break;
      case 'done':
        this._flush();
        this._abort = null;
        this._stats = message.stats ?? null;
        this._conversation = message.conversation ?? null;
        if (typeof message.code === 'string') {
          this._proposal = message.code;
          this._phase = 'proposed';
          this._status = '';
        } else {
          this._phase = 'nothing';
          this._status =
            message.message ||
            this._trans.__('TinyAI proposed nothing to apply.');
        }
        this._changed.emit();
        break;
      case 'error':
        this._flush();
        this._fail(message.message ?? '', message.kind);
        break;
    }
  }

  /** The stream ended: without a done or an error line, that is a failure. */
  private _ended(abort: AbortController, error?: unknown): void {
    if (abort !== this._abort || this._disposed) {
      return;
    }
    this._flush();
    const reason = error
      ? String((error as Error).message ?? error)
      : this._trans.__('the answer ended early');
    this._fail(
      this._trans.__('The edit request failed: %1.', reason.replace(/\.$/, ''))
    );
  }

  private _fail(message: string, kind?: string): void {
    this._abort = null;
    this._phase = 'failed';
    this._status = `${errorTitle(kind, this._trans)} ${message}`.trim();
    this._changed.emit();
  }

  private _requestFlush(): void {
    if (this._flushScheduled) {
      return;
    }
    this._flushScheduled = true;
    this._schedule(() => this._flush());
  }

  private _flush(): void {
    this._flushScheduled = false;
    if (!this._pending || this._disposed) {
      return;
    }
    this._text += this._pending;
    this._pending = '';
    this._changed.emit();
  }

  private _transport: IEditTransport;
  private _trans: ITrans;
  private _schedule: (callback: () => void) => void;
  private _target: IEditTarget | null = null;
  private _notebook: string | null = null;
  private _conversation: string | null = null;
  private _continued = false;
  private _abort: AbortController | null = null;
  private _phase: EditPhase = 'idle';
  private _text = '';
  private _pending = '';
  private _flushScheduled = false;
  private _proposal: string | null = null;
  private _status = '';
  private _stats: IStats | null = null;
  private _disposed = false;
  private _changed = new Signal<EditModel, void>(this);
}
