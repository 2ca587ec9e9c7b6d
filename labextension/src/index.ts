/**
 * jupyter-tinyai: plugin wiring only (the chat's state in model.ts, the sidebar's in
 * state/, views in widgets/ and components/, commands in commands.ts, the server API in
 * request.ts).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { registerCommands } from './commands';
import { completionPlugin } from './completion/plugin';
import { notebookCodeActions } from './components/codeactions';
import { gatherContext } from './context';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the commands are registered at activation; their view loads lazily
import { EditCommandIDs, registerEditCommands } from './edits/commands';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- a few lines, used by the commands registered at activation
import { restEditTransport } from './edits/transport';
import { tinyaiIcon } from './icons';
import { ChatModel } from './model';
import { registerCatalog } from './catalog';
import { ModelEvents } from './modelstate';
import { ChatSocket, api } from './request';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar follows the host from the start
import { followHostModel } from './state/hostmodel';
import { SidebarModel } from './state/sidebar';
import {
  CommandIDs,
  DEFAULT_SETTINGS,
  ISettings,
  PLUGIN_ID,
  SIDEBAR_ID
} from './tokens';
import { TinyAISidebar } from './widgets/sidebar';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'A chat sidebar and inline code explanation backed by a local language model.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  optional: [
    ICommandPalette,
    ISettingRegistry,
    ITranslator,
    ILayoutRestorer,
    IEditorLanguageRegistry,
    ILauncher
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    languages: IEditorLanguageRegistry | null,
    launcher: ILauncher | null
  ) => {
    const trans = (translator ?? nullTranslator).load('jupyter_tinyai');
    let settings: ISettings = { ...DEFAULT_SETTINGS };
    const connection = new ChatSocket();
    const actions = notebookCodeActions(tracker, app.commands);
    const chat = new ChatModel({ connection, trans });
    const model = new SidebarModel({
      chat,
      api,
      notebook: () => tracker.currentWidget?.context.path ?? null,
      gather: source => gatherContext(tracker.currentWidget, source),
      settings: () => settings,
      trans
    });
    // One model state: the picker and the status line follow the host's model.
    const modelEvents = new ModelEvents();
    followHostModel(modelEvents.received, model);
    modelEvents.start();
    // "Get more models…": the catalog in the main area; a finished pull refreshes the picker
    const openCatalog = registerCatalog({
      app,
      restorer,
      trans,
      onPulled: () => void model.refresh()
    });
    model.picker.onGetMoreModels = openCatalog; // the picker's "Get more models…" entry

    const sidebar = new TinyAISidebar({
      model,
      tracker,
      rendermime,
      actions,
      trans,
      onGetMoreModels: openCatalog
    });
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = tinyaiIcon;
    sidebar.title.caption = trans.__('TinyAI chat');
    app.shell.add(sidebar, 'right', { rank: 900 });
    restorer?.add(sidebar, SIDEBAR_ID);

    registerCommands({
      app,
      tracker,
      rendermime,
      connection,
      actions,
      sidebar,
      trans,
      settings: () => settings
    });
    registerEditCommands({
      app,
      tracker,
      transport: restEditTransport(),
      trans,
      settings: () => settings,
      languages
    });

    // a tile in the Launcher's Notebook row: the chat is one click away from a new tab
    launcher?.add({
      command: CommandIDs.openSidebar,
      category: trans.__('Notebook'),
      rank: 100
    });

    if (palette) {
      const category = trans.__('TinyAI');
      for (const command of [
        CommandIDs.openSidebar,
        CommandIDs.newChat,
        CommandIDs.explainCode,
        CommandIDs.explainError,
        CommandIDs.getMoreModels,
        EditCommandIDs.fixError,
        EditCommandIDs.editCell
      ]) {
        palette.addItem({ command, category });
      }
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = () => {
            settings = {
              ...DEFAULT_SETTINGS,
              ...(loaded.composite as unknown as Partial<ISettings>)
            };
            model.include.setDefault(settings.includeContext);
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason =>
          console.error('TinyAI: cannot load settings.', reason)
        );
    }
  }
};

export default [plugin, completionPlugin];
