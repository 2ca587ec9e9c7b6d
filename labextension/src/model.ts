/**
 * The state of one chat: its messages, the request in flight, the banner shown above the
 * input. No DOM and no JupyterLab imports here, so it is unit-tested with Jest.
 *
 * Tokens are not applied one by one: they are collected and applied once per animation
 * frame (`schedule`), so a fast model costs the page one re-render per frame at most.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  ClientMessage,
  IContextPiece,
  IConversation,
  IStats,
  ServerMessage
} from './tokens';
import { ITrans, plainTrans } from './trans';

/** The chat WebSocket as the model sees it (request.ts has the real one). */
export interface IChatConnection {
  send(message: ClientMessage): void;
  readonly messageReceived: ISignal<IChatConnection, ServerMessage>;
  readonly disconnected: ISignal<IChatConnection, string>;
}

export type Role = 'user' | 'assistant';

export interface IChatMessage {
  role: Role;
  content: string;
  context?: IContextPiece[];
  stats?: IStats;
  /** The model's thinking before the answer: shown folded, never sent back to it. */
  reasoning?: string;
  /** One-line notices from the server about this answer (context trimmed, …). */
  notices?: string[];
  /** Set while tokens are still arriving. */
  streaming?: boolean;
  /** Set when the answer ended with an error (the banner says which). */
  failed?: boolean;
  /** While the answer waits for the model: how many requests are ahead of it. */
  queued?: number;
  /** Seconds the answer waited in the model's queue before it started. */
  waited_s?: number;
  /** The model that wrote an answer (its display name). */
  model?: string;
  /** When the message was written (ISO 8601). */
  time?: string;
}

/** A model's display name from what a frame or stored message gives ("llamacpp:X" → "X"). */
export function modelName(
  model: string | undefined | null
): string | undefined {
  if (!model) {
    return undefined;
  }
  const i = model.indexOf(':');
  return i > 0 && !model.includes(' ') ? model.slice(i + 1) : model;
}

/** What an answer waiting in the model's queue says, for `ahead` requests before it. */
export function queueText(ahead: number, trans: ITrans): string {
  return ahead > 1
    ? trans.__('Waiting for the model: %1 requests ahead of yours…', ahead)
    : trans.__(
        'Waiting for the model: it is answering another request (a notebook or another chat); yours is next…'
      );
}

export type ChatPhase =
  'idle' | 'sending' | 'queued' | 'loading' | 'streaming' | 'stopping';

export interface IBanner {
  level: 'info' | 'warning' | 'error';
  /** One short line. */
  text: string;
  /** The whole message, behind a Details toggle (log paths, settings to check…). */
  details?: string;
}

export interface IChatModelOptions {
  connection: IChatConnection;
  /** Runs `callback` before the next paint; default: requestAnimationFrame. */
  schedule?: (callback: () => void) => void;
  /** New ids for requests and conversations; default: crypto.randomUUID-like. */
  newId?: () => string;
  /** The clock, in milliseconds; default: Date.now. */
  now?: () => number;
  trans?: ITrans;
}

export interface ISendOptions {
  context?: IContextPiece[];
  notebook?: string | null;
  model?: string;
  temperature?: number | null;
  maxTokens?: number | null;
  /** An inline explanation's turn (kept out of History until continued). */
  inline?: boolean;
}

function defaultSchedule(callback: () => void): void {
  if (typeof requestAnimationFrame === 'function') {
    requestAnimationFrame(() => callback());
  } else {
    setTimeout(callback, 16);
  }
}

let counter = 0;
function defaultNewId(): string {
  const c = (globalThis as any).crypto;
  if (c && typeof c.randomUUID === 'function') {
    return c.randomUUID();
  }
  counter += 1;
  return `${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2)}`;
}

/**
 * The title shown before an error's message, for its `kind`: the table of
 * jupyter_tinyai/errors.py (TITLES), kept equal by tests/errors/test_kinds.py.
 */
export function errorTitle(kind: string | undefined, trans: ITrans): string {
  switch (kind) {
    case 'internal':
      return trans.__('TinyAI failed unexpectedly.');
    case 'usage':
      return trans.__('Usage error.');
    case 'interrupted':
      return trans.__('Stopped.');
    case 'bad_request':
      return trans.__('The request was not understood.');
    case 'bad_setting':
      return trans.__('The settings do not work together.');
    case 'empty_prompt':
      return trans.__('The prompt is empty.');
    case 'prompt_too_long':
      return trans.__('The prompt is too long.');
    case 'context':
      return trans.__('Not found in the kernel.');
    case 'model_not_found':
      return trans.__('The model was not found.');
    case 'ambiguous_model':
      return trans.__('The model name is ambiguous.');
    case 'model_file':
      return trans.__('The model file cannot be used.');
    case 'insufficient_memory':
      return trans.__('Not enough memory for the model.');
    case 'backend_unavailable':
      return trans.__('The backend cannot run here.');
    case 'generation':
      return trans.__('The model failed while answering.');
    case 'remote':
      return trans.__('The remote server failed.');
    case 'host':
      return trans.__('The model host failed.');
    case 'history':
      return trans.__('The chat history could not be used.');
    case 'pull':
      return trans.__('The download failed.');
    case 'hub_unreachable':
      return trans.__('The Hugging Face Hub cannot be reached.');
    case 'hub_access':
      return trans.__('The Hugging Face Hub refused access.');
    case 'not_enough_disk':
      return trans.__('Not enough disk space.');
    case 'checksum_mismatch':
      return trans.__('The downloaded file is damaged.');
    case 'download_interrupted':
      return trans.__('The download was interrupted.');
    case 'pull_cancelled':
      return trans.__('The download was stopped.');
    case 'unauthorized':
      return trans.__('The request was not authorized.');
    case 'forbidden':
      return trans.__('The request was refused.');
    case 'not_found':
      return trans.__('There is no such endpoint.');
    case 'error':
    default:
      return trans.__('TinyAI could not answer.');
  }
}

export class ChatModel {
  constructor(options: IChatModelOptions) {
    this._connection = options.connection;
    this._schedule = options.schedule ?? defaultSchedule;
    this._newId = options.newId ?? defaultNewId;
    this._trans = options.trans ?? plainTrans;
    this._now = options.now ?? (() => Date.now());
    this._conversationId = this._newId();
    this._connection.messageReceived.connect(this._onMessage, this);
    this._connection.disconnected.connect(this._onDisconnected, this);
  }

  /** Emitted when messages, phase or banner change (at most once per frame for tokens). */
  get changed(): ISignal<ChatModel, void> {
    return this._changed;
  }

  /** Emitted when an answer ends (done, stopped or failed), with its stats if any. */
  get finished(): ISignal<ChatModel, IStats | null> {
    return this._finished;
  }

  get messages(): ReadonlyArray<IChatMessage> {
    return this._messages;
  }

  get phase(): ChatPhase {
    return this._phase;
  }

  get busy(): boolean {
    return this._requestId !== null;
  }

  get banner(): IBanner | null {
    return this._banner;
  }

  get conversationId(): string {
    return this._conversationId;
  }

  get notebook(): string | null {
    return this._notebook;
  }

  get lastStats(): IStats | null {
    return this._lastStats;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Ask `prompt`; false when an answer is still running. */
  send(prompt: string, options: ISendOptions = {}): boolean {
    const text = prompt.trim();
    if (!text || this.busy || this._disposed) {
      return false;
    }
    const context = options.context ?? [];
    if (options.notebook !== undefined) {
      this._notebook = options.notebook;
    }
    this._messages.push({
      role: 'user',
      content: text,
      context,
      time: new Date(this._now()).toISOString()
    });
    this._messages.push({ role: 'assistant', content: '', streaming: true });
    this._requestId = this._newId();
    this._sentAt = this._now();
    this._phase = 'sending';
    this._banner = null;
    const request: ClientMessage = {
      type: 'chat',
      id: this._requestId,
      conversation: this._conversationId,
      notebook: this._notebook,
      prompt: text,
      context
    };
    if (options.model) {
      request.model = options.model;
    }
    if (options.temperature !== undefined && options.temperature !== null) {
      request.temperature = options.temperature;
    }
    if (options.maxTokens !== undefined && options.maxTokens !== null) {
      request.max_tokens = options.maxTokens;
    }
    if (options.inline) {
      request.inline = true;
    }
    this._changed.emit();
    try {
      this._connection.send(request);
    } catch (error) {
      this._fail(undefined, String((error as Error).message ?? error));
    }
    return true;
  }

  /** Stop the running answer (the server stops it within one token). */
  stop(): void {
    if (!this._requestId || this._phase === 'stopping') {
      return;
    }
    this._phase = 'stopping';
    this._changed.emit();
    try {
      this._connection.send({ type: 'stop', id: this._requestId });
    } catch (error) {
      this._fail(undefined, String((error as Error).message ?? error));
    }
  }

  /** Start a new, empty conversation (for `notebook`, when given). */
  newChat(notebook?: string | null): void {
    if (this.busy) {
      this.stop();
      this._finish(null);
    }
    this._conversationId = this._newId();
    if (notebook !== undefined) {
      this._notebook = notebook;
    }
    this._messages = [];
    this._banner = null;
    this._changed.emit();
  }

  /** Show a stored conversation; the next prompt continues it. */
  load(conversation: IConversation): void {
    if (this.busy) {
      this.stop();
      this._finish(null);
    }
    this._conversationId = conversation.id;
    this._notebook = conversation.notebook;
    this._messages = conversation.messages
      .filter(m => m.role === 'user' || m.role === 'assistant')
      .map(m => ({
        role: m.role as Role,
        content: m.content,
        context: m.context,
        stats: m.stats,
        model: modelName(m.model ?? m.stats?.model),
        time: m.time,
        ...(m.reasoning ? { reasoning: m.reasoning } : {})
      }));
    this._banner = null;
    this._changed.emit();
  }

  /** Set the banner (e.g. when a REST call failed); null clears it. */
  setBanner(banner: IBanner | null): void {
    this._banner = banner;
    this._changed.emit();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    if (this.busy) {
      this.stop();
    }
    this._disposed = true;
    this._connection.messageReceived.disconnect(this._onMessage, this);
    this._connection.disconnected.disconnect(this._onDisconnected, this);
    Signal.clearData(this);
  }

  private get _answer(): IChatMessage | null {
    const last = this._messages[this._messages.length - 1];
    return last && last.role === 'assistant' ? last : null;
  }

  private _onMessage(_: IChatConnection, message: ServerMessage): void {
    if (!this._requestId || message.id !== this._requestId) {
      return;
    }
    switch (message.type) {
      case 'start': {
        this._phase = this._phase === 'stopping' ? 'stopping' : 'streaming';
        this._banner = null;
        const answer = this._answer;
        if (answer && answer.queued !== undefined) {
          answer.waited_s = (this._now() - this._sentAt) / 1000;
          delete answer.queued;
        }
        if (answer && message.model) {
          answer.model = modelName(message.model);
        }
        this._changed.emit();
        break;
      }
      case 'queued': {
        // said on the answer itself, where "Thinking…" would be
        this._phase = this._phase === 'stopping' ? 'stopping' : 'queued';
        const answer = this._answer;
        if (answer) {
          answer.queued = Math.max(1, message.position ?? 1);
        }
        this._changed.emit();
        break;
      }
      case 'progress': {
        this._phase = 'loading';
        const pct =
          typeof message.fraction === 'number'
            ? ` ${Math.round(message.fraction * 100)}%`
            : '';
        this._banner = {
          level: 'info',
          text: (message.message || this._trans.__('Loading the model…')) + pct
        };
        this._changed.emit();
        break;
      }
      case 'token':
        if (this._phase !== 'stopping') {
          this._phase = 'streaming';
        }
        this._pending += message.text;
        this._requestFlush();
        break;
      case 'reasoning':
        if (this._phase !== 'stopping') {
          this._phase = 'streaming';
        }
        this._pendingReasoning += message.text;
        this._requestFlush();
        break;
      case 'notice': {
        const answer = this._answer;
        if (answer) {
          answer.notices = [...(answer.notices ?? []), message.text];
        }
        this._changed.emit();
        break;
      }
      case 'done': {
        this._flush();
        const answer = this._answer;
        if (answer) {
          if (
            typeof message.text === 'string' &&
            message.text.length >= answer.content.length
          ) {
            answer.content = message.text;
          }
          if (message.reasoning) {
            answer.reasoning = message.reasoning;
          }
          answer.stats = message.stats;
          answer.streaming = false;
          answer.model =
            modelName(message.model) ??
            answer.model ??
            modelName(message.stats?.model);
          answer.time = message.time ?? new Date(this._now()).toISOString();
        }
        if (this._banner && this._banner.level === 'info') {
          this._banner = null;
        }
        this._finish(message.stats ?? null);
        break;
      }
      case 'error':
        this._fail(message.kind, message.message);
        break;
    }
  }

  private _onDisconnected(_: IChatConnection, reason: string): void {
    if (!this._requestId) {
      return;
    }
    this._fail(
      'down',
      this._trans.__(
        'Lost the connection to the Jupyter server (%1). Check that it is still running, then ask again.',
        reason
      ),
      this._trans.__('Lost the connection to the Jupyter server.')
    );
  }

  /** End the answer with an error: its title on one line, the message as details. */
  private _fail(kind: string | undefined, text: string, title?: string): void {
    this._flush();
    const answer = this._answer;
    if (answer) {
      answer.streaming = false;
      answer.failed = true;
    }
    this._banner = {
      level: 'error',
      text: title ?? errorTitle(kind, this._trans),
      details: (text ?? '').trim() || undefined
    };
    this._finish(null);
  }

  private _finish(stats: IStats | null): void {
    this._pending = '';
    this._pendingReasoning = '';
    const answer = this._answer;
    if (answer) {
      answer.streaming = false;
      delete answer.queued;
    }
    this._requestId = null;
    this._phase = 'idle';
    if (stats) {
      this._lastStats = stats;
    }
    this._changed.emit();
    this._finished.emit(stats);
  }

  private _requestFlush(): void {
    if (this._flushScheduled) {
      return;
    }
    this._flushScheduled = true;
    this._schedule(() => {
      this._flushScheduled = false;
      if (this._flush()) {
        this._changed.emit();
      }
    });
  }

  /** Apply collected tokens to the answer; true when something changed. */
  private _flush(): boolean {
    if (!this._pending && !this._pendingReasoning) {
      return false;
    }
    const answer = this._answer;
    if (answer && this._requestId) {
      answer.content += this._pending;
      if (this._pendingReasoning) {
        answer.reasoning = (answer.reasoning ?? '') + this._pendingReasoning;
      }
    }
    this._pending = '';
    this._pendingReasoning = '';
    return true;
  }

  private _connection: IChatConnection;
  private _schedule: (callback: () => void) => void;
  private _newId: () => string;
  private _now: () => number;
  private _sentAt = 0;
  private _trans: ITrans;
  private _messages: IChatMessage[] = [];
  private _requestId: string | null = null;
  private _conversationId: string;
  private _notebook: string | null = null;
  private _phase: ChatPhase = 'idle';
  private _banner: IBanner | null = null;
  private _lastStats: IStats | null = null;
  private _pending = '';
  private _pendingReasoning = '';
  private _flushScheduled = false;
  private _disposed = false;
  private _changed = new Signal<ChatModel, void>(this);
  private _finished = new Signal<ChatModel, IStats | null>(this);
}
