/**
 * The TinyAI commands: open the sidebar, new chat, explain code, explain error.
 * Explanations stream inline under the cell; generated code is never run.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Cell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { TranslationBundle } from '@jupyterlab/translation';

import {
  activeCellContext,
  errorCell,
  cellLabel,
  selectionContext
} from './context';
import { cellKind } from './state/include';
import { targetCell, trackContextMenu } from './target';
import { ICodeActions } from './components/codeactions';
import { tinyaiIcon } from './icons';
import { IChatConnection } from './model';
import { CommandIDs, IContextPiece, ISettings } from './tokens';
import { InlineExplanation } from './widgets/inline';
import { TinyAISidebar } from './widgets/sidebar';

export interface ICommandDeps {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  rendermime: IRenderMimeRegistry;
  connection: IChatConnection;
  actions: ICodeActions;
  sidebar: TinyAISidebar;
  trans: TranslationBundle;
  settings: () => ISettings;
}

/** The arguments of a command that takes none. */
const NO_ARGS = { args: { type: 'object', properties: {} } };

/** The arguments of the explain commands: where they were run from. */
const EXPLAIN_ARGS = {
  args: {
    type: 'object',
    properties: {
      origin: {
        type: 'string',
        description:
          "'context-menu': explain the cell under the context menu; otherwise the active cell"
      }
    }
  }
};

export function registerCommands(deps: ICommandDeps): void {
  const { app, tracker, trans, sidebar } = deps;
  trackContextMenu(app);

  const explain = (
    panel: NotebookPanel,
    cell: Cell,
    title: string,
    prompt: string,
    context: IContextPiece[]
  ) => {
    const settings = deps.settings();
    const widget = new InlineExplanation({
      connection: deps.connection,
      rendermime: deps.rendermime,
      actions: deps.actions,
      trans,
      title,
      prompt,
      context,
      notebook: panel.context.path,
      // the host's model (one model state), not a reload of another choice
      model: sidebar.model.picker.chosen || settings.defaultModel || undefined,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens,
      continueInSidebar: conversation => {
        sidebar.model.showConversation(conversation);
        app.shell.activateById(sidebar.id);
      }
    });
    widget.attachTo(cell);
    return widget;
  };

  app.commands.addCommand(CommandIDs.openSidebar, {
    label: trans.__('Open the TinyAI Chat'),
    caption: trans.__('Chat with the language model running on this machine'),
    icon: tinyaiIcon,
    describedBy: NO_ARGS,
    execute: () => app.shell.activateById(sidebar.id)
  });

  app.commands.addCommand(CommandIDs.newChat, {
    label: trans.__('New TinyAI Chat'),
    describedBy: NO_ARGS,
    execute: () => {
      app.shell.activateById(sidebar.id);
      sidebar.newChat();
    }
  });

  app.commands.addCommand(CommandIDs.explainCode, {
    label: () =>
      selectionContext(tracker.currentWidget)
        ? trans.__('Explain Selection with TinyAI')
        : trans.__('Explain Code with TinyAI'),
    caption: trans.__(
      'Explain the active cell (or the selected text in it), inline under the cell'
    ),
    icon: tinyaiIcon,
    isEnabled: () => !!activeCellContext(tracker.currentWidget),
    describedBy: EXPLAIN_ARGS,
    execute: args => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const cell = targetCell(app, panel, args);
      if (!cell) {
        return;
      }
      const selection =
        cell === panel.content.activeCell ? selectionContext(panel) : null;
      const source = cell.model.sharedModel.getSource();
      if (!selection && !source.trim()) {
        return;
      }
      const piece = selection ?? {
        label: `${cellKind(cell.model.type)} (${cellLabel(panel, cell)})`,
        text: source
      };
      return explain(
        panel,
        cell,
        selection
          ? trans.__('Explanation of the selection')
          : trans.__('Explanation of this cell'),
        selection
          ? trans.__('Explain what this part of the code does.')
          : trans.__('Explain what this code does, step by step.'),
        [piece]
      );
    }
  });

  app.commands.addCommand(CommandIDs.explainError, {
    label: trans.__('Explain Error with TinyAI'),
    caption: trans.__(
      "Explain the active cell's error (or the notebook's last error), inline under the cell"
    ),
    icon: tinyaiIcon,
    isEnabled: () => !!tracker.currentWidget,
    describedBy: EXPLAIN_ARGS,
    execute: args => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const found = errorCell(panel, targetCell(app, panel, args));
      if (!found) {
        sidebar.model.chat.setBanner({
          level: 'info',
          text: trans.__('This notebook has no error output to explain.')
        });
        app.shell.activateById(sidebar.id);
        return;
      }
      const { cell, error } = found;
      return explain(
        panel,
        cell,
        trans.__('Explanation of this error'),
        trans.__('Explain this error and how to fix it.'),
        [
          {
            label: `Code (${cellLabel(panel, cell)})`,
            text: cell.model.sharedModel.getSource()
          },
          { label: `Error (${cellLabel(panel, cell)})`, text: error }
        ]
      );
    }
  });
}
