/**
 * Test doubles of the chat WebSocket, the frame scheduler, the sidebar's REST API and the
 * browser's storage.
 */
import { Signal } from '@lumino/signaling';

import { IChatConnection } from '../model';
import { IModelState } from '../modelstate';
import { ISidebarApi } from '../state/sidebar';
import { IKeyValueStore } from '../state/resume';
import {
  ClientMessage,
  IConversation,
  IConversationList,
  IModelInfo,
  IModelList,
  IStatus,
  ServerMessage
} from '../tokens';

/** A chat connection that records what is sent and lets the test play the server. */
export class MockConnection implements IChatConnection {
  sent: ClientMessage[] = [];
  failNext: Error | null = null;
  messageReceived: Signal<IChatConnection, ServerMessage> = new Signal<
    IChatConnection,
    ServerMessage
  >(this);
  disconnected: Signal<IChatConnection, string> = new Signal<
    IChatConnection,
    string
  >(this);
  send(message: ClientMessage): void {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = null;
      throw error;
    }
    this.sent.push(message);
  }
  server(message: ServerMessage): void {
    this.messageReceived.emit(message);
  }
}

/** A frame scheduler the test advances by hand. */
export class Frames {
  queue: (() => void)[] = [];
  schedule = (callback: () => void) => {
    this.queue.push(callback);
  };
  run(): void {
    const due = this.queue.splice(0);
    due.forEach(cb => cb());
  }
}

/** A snapshot of the host's model (modelstate.ts): Small loaded on the CPU unless overridden. */
export function snapshot(overrides: Partial<IModelState> = {}): IModelState {
  return {
    seq: 1,
    event: 'loaded',
    state: 'loaded',
    model: { id: 'llamacpp:small', name: 'Small', backend: 'llamacpp' },
    loading: null,
    placement: 'CPU, 2 threads',
    picked: null,
    error: null,
    last: null,
    ...overrides
  };
}

export function modelInfo(id: string, name = ''): IModelInfo {
  return { id, name, backend: 'llamacpp', quantization: 'Q4_1' };
}

/**
 * The sidebar's REST API over data the test sets: `models`, `status`, the conversations
 * of each notebook; a call fails with `failing[name]` when set. `calls` records each call.
 */
export class FakeApi implements ISidebarApi {
  modelList: IModelList = {
    models: [modelInfo('llamacpp:a', 'A'), modelInfo('llamacpp:b', 'B')],
    loaded: null,
    default: 'llamacpp:a'
  };
  statusReply: IStatus = { model: null, backend: null, last: null };
  stored: IConversation[] = [];
  updated: Record<string, number> = {};
  notices: string[] = [];
  failing: Partial<Record<keyof ISidebarApi, string>> = {};
  calls: string[] = [];

  async models(): Promise<IModelList> {
    this._call('models');
    return this.modelList;
  }

  async loadModel(model: string): Promise<unknown> {
    this._call('loadModel', model);
    this.modelList = { ...this.modelList, loaded: model };
    return {};
  }

  async status(): Promise<IStatus> {
    this._call('status');
    return this.statusReply;
  }

  async conversations(notebook: string | null): Promise<IConversationList> {
    this._call('conversations', notebook);
    return {
      conversations: this.stored
        .filter(c => (c.notebook ?? '') === (notebook ?? ''))
        .map(c => ({
          id: c.id,
          notebook: c.notebook,
          title: c.title,
          updated: this.updated[c.id] ?? 0,
          message_count: c.messages.length
        })),
      notices: this.notices
    };
  }

  async conversation(id: string): Promise<IConversation> {
    this._call('conversation', id);
    const found = this.stored.find(c => c.id === id);
    if (!found) {
      throw new Error(`No conversation ${id}.`);
    }
    return found;
  }

  async deleteConversation(id: string): Promise<unknown> {
    this._call('deleteConversation', id);
    this.stored = this.stored.filter(c => c.id !== id);
    return {};
  }

  kept: string[] = [];
  async keepConversation(id: string): Promise<unknown> {
    this._call('keepConversation', id);
    this.kept.push(id);
    return {};
  }

  /** Store a conversation of `notebook` with one question and its answer. */
  add(id: string, notebook: string | null, updated: number): IConversation {
    const conversation: IConversation = {
      id,
      notebook,
      title: `about ${id}`,
      messages: [
        { role: 'user', content: `question ${id}` },
        { role: 'assistant', content: `answer ${id}` }
      ]
    };
    this.stored.push(conversation);
    this.updated[id] = updated;
    return conversation;
  }

  private _call(name: keyof ISidebarApi, arg?: string | null): void {
    this.calls.push(arg === undefined ? name : `${name} ${arg}`);
    const failure = this.failing[name];
    if (failure) {
      throw new Error(failure);
    }
  }
}

/** localStorage as a map; `broken` makes every access throw (storage disabled). */
export class MemoryStore implements IKeyValueStore {
  items = new Map<string, string>();
  broken = false;
  getItem(key: string): string | null {
    this._check();
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this._check();
    this.items.set(key, value);
  }
  private _check(): void {
    if (this.broken) {
      throw new Error('SecurityError: storage is disabled');
    }
  }
}
