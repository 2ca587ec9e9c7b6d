/**
 * The loaded model, pushed by the server (`GET <base>/tinyai/model/events`, Server-Sent
 * Events named `model`): the host's snapshot of its model, the current one first, then one
 * per change (a pick in a notebook, the CLI or the sidebar; a load; an answer; an unload).
 * The sidebar's picker, header and status line follow it: the host's model is the truth.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { IStats } from './tokens';

/** What a snapshot says about one model. */
export interface IModelBrief {
  id: string;
  name: string;
  backend?: string;
  /** "bundled" for the small model that ships with the package. */
  source?: string;
}

/** One snapshot (jupyter_tinyai/modelstate.py). */
export interface IModelState {
  seq: number;
  event: 'unloaded' | 'loading' | 'loaded' | 'failed' | 'picked' | 'answered';
  state: 'unloaded' | 'loading' | 'loaded';
  model: IModelBrief | null;
  loading: IModelBrief | null;
  /** Where the loaded model runs: "CPU, 2 threads", "Metal, 30/30 layers". */
  placement: string | null;
  picked: string | null;
  /** Why the last load failed. */
  error: string | null;
  /** The loaded model's last answer. */
  last: (IStats & { placement?: string }) | null;
  /** false when no model host runs. */
  host?: boolean;
}

/**
 * Splits a text/event-stream into events: feed it the text as it arrives; it returns the
 * complete events (name, data) so far and keeps the rest for the next call.
 */
export class SSEParser {
  feed(text: string): { name: string; data: string }[] {
    this._buffer += text.replace(/\r\n?/g, '\n');
    const events: { name: string; data: string }[] = [];
    let end: number;
    while ((end = this._buffer.indexOf('\n\n')) >= 0) {
      const block = this._buffer.slice(0, end);
      this._buffer = this._buffer.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) {
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) {
          value = value.slice(1);
        }
        if (field === 'event') {
          name = value;
        } else if (field === 'data') {
          data.push(value);
        }
      }
      if (data.length) {
        events.push({ name, data: data.join('\n') });
      }
    }
    return events;
  }

  private _buffer = '';
}

/**
 * Follows `tinyai/model/events` (authenticated like every REST call), reconnecting after
 * a drop; `received` emits each snapshot.
 */
export class ModelEvents {
  constructor(
    private _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  get received(): ISignal<ModelEvents, IModelState> {
    return this._received;
  }

  /** The last snapshot received, if any. */
  get latest(): IModelState | null {
    return this._latest;
  }

  start(): void {
    if (!this._running) {
      this._running = true;
      void this._loop();
    }
  }

  dispose(): void {
    this._running = false;
    this._abort?.abort();
    Signal.clearData(this);
  }

  private async _loop(): Promise<void> {
    let delay = 1000;
    while (this._running) {
      try {
        await this._follow();
        delay = 1000;
      } catch {
        delay = Math.min(delay * 2, 30000);
      }
      if (this._running) {
        await new Promise(resolve => setTimeout(resolve, delay));
      }
    }
  }

  private async _follow(): Promise<void> {
    const url = URLExt.join(
      this._settings.baseUrl,
      'tinyai',
      'model',
      'events'
    );
    this._abort = new AbortController();
    const response = await ServerConnection.makeRequest(
      url,
      { signal: this._abort.signal, cache: 'no-store' },
      this._settings
    );
    if (!response.ok || !response.body) {
      throw new Error(`tinyai/model/events answered ${response.status}`);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SSEParser();
    while (this._running) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      for (const event of parser.feed(
        decoder.decode(value, { stream: true })
      )) {
        if (event.name !== 'model') {
          continue;
        }
        try {
          this._latest = JSON.parse(event.data) as IModelState;
        } catch {
          continue;
        }
        this._received.emit(this._latest);
      }
    }
  }

  private _running = false;
  private _abort: AbortController | null = null;
  private _latest: IModelState | null = null;
  private _received = new Signal<ModelEvents, IModelState>(this);
}
