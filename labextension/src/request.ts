/**
 * Talking to the TinyAI server extension: REST calls and the shared chat WebSocket.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { IChatConnection } from './model';
import { ICatalog, ICatalogApi, IPull } from './state/catalog';
import {
  ClientMessage,
  IConversation,
  IConversationList,
  IModelList,
  IStatus,
  ServerMessage
} from './tokens';

/** An error from the TinyAI REST API, with the server's message for the user. */
export class TinyAIRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** Call `<base>/tinyai/<endpoint>` and return its JSON. */
export async function requestAPI<T>(
  endpoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'tinyai', endpoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new TinyAIRequestError(
      `Cannot reach the Jupyter server (${(error as Error).message}). Is it still running?`,
      0
    );
  }
  const body = await response.text();
  let data: any = null;
  if (body.length > 0) {
    try {
      data = JSON.parse(body);
    } catch {
      data = body;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data === 'object' && (data.message || data.error)) ||
      (response.status === 404
        ? 'The TinyAI server extension is not enabled: run `jupyter server extension enable jupyter_tinyai` and restart JupyterLab.'
        : `The TinyAI server answered ${response.status} ${response.statusText}.`);
    throw new TinyAIRequestError(String(message), response.status);
  }
  return data as T;
}

/** The REST API, one function per endpoint. */
export const api = {
  models: () => requestAPI<IModelList>('models'),
  loadModel: (model: string) =>
    requestAPI<unknown>('models/load', {
      method: 'POST',
      body: JSON.stringify({ model })
    }),
  status: () => requestAPI<IStatus>('status'),
  conversations: (notebook: string | null) =>
    requestAPI<IConversationList>(
      'conversations' +
        (notebook !== null ? `?notebook=${encodeURIComponent(notebook)}` : '')
    ),
  conversation: (id: string) =>
    requestAPI<IConversation>(`conversations/${encodeURIComponent(id)}`),
  deleteConversation: (id: string) =>
    requestAPI<unknown>(`conversations/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    }),
  /** An inline explanation continued in the sidebar: listed in History from now on. */
  keepConversation: (id: string) =>
    requestAPI<unknown>(`conversations/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ inline: false })
    })
};

/** The catalog and the server's pulls ("Get more models…", state/catalog.ts). */
export const catalogApi: ICatalogApi = {
  catalog: () => requestAPI<ICatalog>('catalog'),
  pulls: () => requestAPI<{ pulls: IPull[] }>('pulls'),
  startPull: (name: string) =>
    requestAPI<{ pull: IPull }>('pulls', {
      method: 'POST',
      body: JSON.stringify({ name })
    }),
  cancelPull: (id: string) =>
    requestAPI<{ pull: IPull }>(`pulls/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    })
};

/**
 * The chat WebSocket, shared by the sidebar and the inline explanations. It connects on
 * first use, queues messages until it is open, and reconnects on the next send after a close.
 */
export class ChatSocket implements IChatConnection {
  constructor(
    private _settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  get messageReceived(): ISignal<IChatConnection, ServerMessage> {
    return this._messageReceived;
  }

  get disconnected(): ISignal<IChatConnection, string> {
    return this._disconnected;
  }

  send(message: ClientMessage): void {
    const socket = this._connect();
    const data = JSON.stringify(message);
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(data);
    } else {
      this._queue.push(data);
    }
  }

  dispose(): void {
    this._socket?.close();
    this._socket = null;
  }

  private _connect(): WebSocket {
    if (
      this._socket &&
      (this._socket.readyState === WebSocket.OPEN ||
        this._socket.readyState === WebSocket.CONNECTING)
    ) {
      return this._socket;
    }
    let url = URLExt.join(this._settings.wsUrl, 'tinyai', 'chat');
    const token = this._settings.token;
    if (this._settings.appendToken && token !== '') {
      url = url + `?token=${encodeURIComponent(token)}`;
    }
    const socket = new this._settings.WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      for (const data of this._queue.splice(0)) {
        socket.send(data);
      }
    };
    socket.onmessage = (event: MessageEvent) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this._messageReceived.emit(message);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this._socket === socket) {
        this._socket = null;
      }
      this._queue = [];
      this._disconnected.emit(event.reason || `code ${event.code}`);
    };
    return socket;
  }

  private _socket: WebSocket | null = null;
  private _queue: string[] = [];
  private _messageReceived = new Signal<IChatConnection, ServerMessage>(this);
  private _disconnected = new Signal<IChatConnection, string>(this);
}
