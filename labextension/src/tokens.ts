/**
 * Command ids, plugin ids and the wire protocol types of the TinyAI server extension
 * (REST under `<base>/tinyai/…`, WebSocket `<base>/tinyai/chat`).
 */

export const PLUGIN_ID = 'jupyter-tinyai:plugin';
export const SIDEBAR_ID = 'jupyter-tinyai-sidebar';

export namespace CommandIDs {
  export const openSidebar = 'tinyai:open-sidebar';
  export const newChat = 'tinyai:new-chat';
  export const explainCode = 'tinyai:explain-code';
  export const explainError = 'tinyai:explain-error';
  export const getMoreModels = 'tinyai:get-more-models';
}

/** One model the server offers (`GET /tinyai/models`). */
export interface IModelInfo {
  id: string;
  name: string;
  backend: string;
  format?: string;
  quantization?: string | null;
  size_bytes?: number | null;
  context_length?: number | null;
  source?: string;
  path?: string;
}

export interface IModelList {
  models: IModelInfo[];
  /** One line per model file or remote that could not be listed (not models); `remote`
   * names a configured remote that is down: shown in the picker, not pickable. */
  warnings?: { message: string; remote?: string | null }[];
  loaded: string | null;
  default: string | null;
  /** How to get a better model than the bundled one (models-front); null or absent: none. */
  hint?: { text: string; command: string } | null;
}

/** Figures of one answer. */
export interface IStats {
  model?: string;
  backend?: string;
  prompt_tokens?: number;
  cached_tokens?: number;
  generated_tokens?: number;
  ttft_s?: number;
  tokens_per_s?: number;
  total_s?: number;
  finish_reason?: string;
  /** Where the model ran: "CPU, 2 threads", "Metal, 30/30 layers". */
  placement?: string;
}

export interface IStatus {
  model: IModelInfo | null;
  backend?: string | null;
  n_ctx?: number | null;
  last?: IStats | null;
  [key: string]: unknown;
}

/** A piece of notebook context sent with a prompt. */
export interface IContextPiece {
  label: string;
  text: string;
}

export interface IConversationSummary {
  id: string;
  notebook: string | null;
  title: string;
  created?: string;
  updated: string | number;
  model?: string | null;
  message_count: number;
  /** The last prompt, when there is more than one ("" otherwise). */
  last_prompt?: string;
}

export interface IConversationList {
  conversations: IConversationSummary[];
  /** One line per damaged history file the server set aside while listing. */
  notices?: string[];
}

export interface IStoredMessage {
  role: 'user' | 'assistant' | string;
  content: string;
  stats?: IStats;
  context?: IContextPiece[];
  /** The display name of the model that wrote an answer. */
  model?: string;
  /** When the message was written (ISO 8601). */
  time?: string;
  /** The model's reasoning before its answer (never sent back to it). */
  reasoning?: string;
}

export interface IConversation {
  id: string;
  notebook: string | null;
  title: string;
  messages: IStoredMessage[];
}

/** Messages the browser sends on the chat WebSocket. */
export interface IChatRequest {
  type: 'chat';
  id: string;
  conversation: string;
  notebook: string | null;
  prompt: string;
  context: IContextPiece[];
  model?: string;
  temperature?: number;
  max_tokens?: number;
  /** An inline explanation's turn: kept out of History until continued in the sidebar. */
  inline?: boolean;
}

export interface IStopRequest {
  type: 'stop';
  id: string;
}

export type ClientMessage = IChatRequest | IStopRequest;

/** Messages the server sends on the chat WebSocket, all tagged with the request id. */
export type ServerMessage =
  | { type: 'start'; id: string; model?: string }
  | { type: 'queued'; id: string; position?: number }
  | { type: 'progress'; id: string; fraction?: number; message?: string }
  | { type: 'token'; id: string; text: string }
  /** The model's thinking before its answer (shown folded; never sent back to it). */
  | { type: 'reasoning'; id: string; text: string }
  | { type: 'notice'; id: string; text: string }
  | {
      type: 'done';
      id: string;
      stats?: IStats;
      text?: string;
      /** The display name of the model that answered. */
      model?: string;
      /** When the answer ended (ISO 8601). */
      time?: string;
      reasoning?: string;
    }
  | { type: 'error'; id?: string; kind?: string; message: string };

/** User settings (schema/plugin.json). */
export interface ISettings {
  defaultModel: string;
  temperature: number | null;
  maxTokens: number | null;
  includeContext: ContextSource;
}

export type ContextSource = 'none' | 'cell' | 'selection' | 'error';

export const DEFAULT_SETTINGS: ISettings = {
  defaultModel: '',
  temperature: null,
  maxTokens: null,
  includeContext: 'none'
};
