/**
 * The plugin that registers the "TinyAI" inline completion provider with JupyterLab's
 * completion provider manager (JupyterLab 4.1+, Notebook 7). Its settings are the
 * `completion…` entries of the TinyAI settings (jupyter-tinyai:plugin).
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICompletionProviderManager } from '@jupyterlab/completer';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { PLUGIN_ID } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- registered with the manager at activation
import { TinyAICompletionProvider } from './provider';
import {
  completionSettings,
  DEFAULT_COMPLETION_SETTINGS,
  ICompletionSettings
} from './wire';

export const COMPLETION_PLUGIN_ID = 'jupyter-tinyai:completion';

export const completionPlugin: JupyterFrontEndPlugin<void> = {
  id: COMPLETION_PLUGIN_ID,
  description:
    'Inline completion (ghost text) in code cells from the local language model.',
  autoStart: true,
  requires: [ICompletionProviderManager],
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    manager: ICompletionProviderManager,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_tinyai');
    let settings: ICompletionSettings = { ...DEFAULT_COMPLETION_SETTINGS };
    manager.registerInlineProvider(
      new TinyAICompletionProvider({
        settings: () => settings,
        trans,
        serverSettings: app.serviceManager.serverSettings
      })
    );
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = () => {
            settings = completionSettings(
              loaded.composite as { [key: string]: unknown }
            );
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason =>
          console.error('TinyAI: cannot load the completion settings.', reason)
        );
    }
  }
};
