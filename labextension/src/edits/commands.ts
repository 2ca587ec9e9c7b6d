/**
 * The edit commands: "Fix Error with TinyAI" (on an error output, or a cell), "Edit Cell with
 * TinyAI…" (on a code cell; with text selected in it, only the selection is rewritten), and
 * showing given code (a code block of the sidebar) as a proposed change of the active cell.
 * Each shows a proposal under the cell; nothing changes until Accept, and nothing runs. A fix
 * or an edit is recorded in the chat history (inline, out of History) so that "Continue in
 * sidebar" can go on talking about it.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog, Notification } from '@jupyterlab/apputils';
import { Cell } from '@jupyterlab/cells';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { TranslationBundle } from '@jupyterlab/translation';
import { Extension } from '@codemirror/state';
import { UUID } from '@lumino/coreutils';

import { cellLabel, errorCell } from '../context';
import { targetCell } from '../target';
import { tinyaiIcon } from '../icons';
import { ISettings } from '../tokens';
import { EditModel, IEditTarget, IEditTransport } from './model';

export namespace EditCommandIDs {
  export const fixError = 'tinyai:fix-error';
  export const editCell = 'tinyai:edit-cell';
  /** Show `args.code` as a proposed change of the active cell (the sidebar's "Apply to cell"). */
  export const applyCode = 'tinyai:apply-code-to-cell';
}

export interface IEditCommandDeps {
  app: JupyterFrontEnd;
  tracker: INotebookTracker;
  transport: IEditTransport;
  trans: TranslationBundle;
  settings: () => ISettings;
  languages: IEditorLanguageRegistry | null;
  /** Open the recorded conversation `id` in the chat sidebar ("Continue in sidebar"). */
  continueInSidebar?: (id: string) => Promise<void>;
}

/** The arguments of the fix and edit commands: where they were run from. */
const ORIGIN_ARGS = {
  args: {
    type: 'object',
    properties: {
      origin: {
        type: 'string',
        description:
          "'context-menu': the cell under the context menu; otherwise the active cell"
      }
    }
  }
};

/** The [start, end) offsets of the text selected in `cell`'s editor, or null. */
export function selectedRange(cell: Cell): [number, number] | null {
  const editor = cell.editor;
  if (!editor) {
    return null;
  }
  const range = editor.getSelection();
  const a = editor.getOffsetAt(range.start);
  const b = editor.getOffsetAt(range.end);
  if (a === b) {
    return null;
  }
  const [start, end] = [Math.min(a, b), Math.max(a, b)];
  return cell.model.sharedModel.getSource().slice(start, end).trim()
    ? [start, end]
    : null;
}

export function registerEditCommands(deps: IEditCommandDeps): void {
  const { app, tracker, trans } = deps;
  const inform = (text: string) => Notification.info(text, { autoClose: 5000 });

  const language = async (panel: NotebookPanel): Promise<Extension | null> => {
    const info = panel.content.model?.metadata?.language_info as
      { name?: string } | undefined;
    const found = deps.languages
      ? await deps.languages.getLanguage(info?.name || 'python')
      : null;
    return found?.support ?? null;
  };

  const show = async (
    panel: NotebookPanel,
    cell: Cell,
    title: string,
    target: IEditTarget | null,
    proposal?: string
  ) => {
    const model = new EditModel({ transport: deps.transport, trans });
    // the diff view (and @codemirror/merge) loads when first needed, not at JupyterLab's start
    const { InlineEdit } = await import('./inline');
    const widget = new InlineEdit({
      model,
      cell,
      trans,
      title,
      language: await language(panel),
      continueInSidebar: deps.continueInSidebar
    });
    widget.attach();
    if (target) {
      model.start(target, {
        notebook: panel.context.path,
        model: deps.settings().defaultModel || undefined,
        conversation: deps.continueInSidebar ? UUID.uuid4() : null,
        cell: cellLabel(panel, cell)
      });
    } else {
      model.propose(cell.model.sharedModel.getSource(), proposal ?? '');
    }
    return widget;
  };

  app.commands.addCommand(EditCommandIDs.fixError, {
    label: trans.__('Fix Error with TinyAI'),
    caption: trans.__(
      "Propose a fix of the cell's error (or the notebook's last error) as a diff under the cell; nothing changes until you accept it"
    ),
    icon: tinyaiIcon,
    describedBy: ORIGIN_ARGS,
    isEnabled: () => !!tracker.currentWidget,
    execute: args => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const found = errorCell(panel, targetCell(app, panel, args));
      if (!found) {
        inform(trans.__('This notebook has no error output to fix.'));
        return;
      }
      const { cell, error } = found;
      const code = cell.model.sharedModel.getSource();
      return show(panel, cell, trans.__('Proposed fix of this error'), {
        code,
        error
      });
    }
  });

  app.commands.addCommand(EditCommandIDs.editCell, {
    label: () =>
      tracker.currentWidget?.content.activeCell &&
      selectedRange(tracker.currentWidget.content.activeCell)
        ? trans.__('Edit Selection with TinyAI…')
        : trans.__('Edit Cell with TinyAI…'),
    caption: trans.__(
      'Ask for a change of the code cell (or of the text selected in it), shown as a diff under the cell'
    ),
    icon: tinyaiIcon,
    describedBy: ORIGIN_ARGS,
    isEnabled: () =>
      tracker.currentWidget?.content.activeCell?.model.type === 'code',
    execute: async args => {
      const panel = tracker.currentWidget;
      if (!panel) {
        return;
      }
      const cell = targetCell(app, panel, args);
      if (!cell || cell.model.type !== 'code') {
        return;
      }
      const code = cell.model.sharedModel.getSource();
      if (!code.trim()) {
        inform(trans.__('The cell is empty: there is no code to edit.'));
        return;
      }
      const selection =
        cell === panel.content.activeCell ? selectedRange(cell) : null;
      const answer = await InputDialog.getText({
        title: selection
          ? trans.__('Edit the selection with TinyAI')
          : trans.__('Edit the cell with TinyAI'),
        label: trans.__('What should change?'),
        placeholder: trans.__(
          'e.g. vectorize this loop, add type hints, use pandas'
        ),
        okLabel: trans.__('Propose')
      });
      const instruction = answer.button.accept
        ? (answer.value ?? '').trim()
        : '';
      if (!instruction) {
        return;
      }
      return show(panel, cell, trans.__('Proposed edit: %1', instruction), {
        code,
        instruction,
        selection
      });
    }
  });

  app.commands.addCommand(EditCommandIDs.applyCode, {
    label: trans.__('Apply Code to Cell with TinyAI'),
    caption: trans.__(
      'Show the code as a proposed change of the active cell (a diff to accept or reject)'
    ),
    icon: tinyaiIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          code: {
            type: 'string',
            description: 'the new code of the active cell'
          }
        },
        required: ['code']
      }
    },
    isEnabled: () => !!tracker.currentWidget?.content.activeCell,
    execute: args => {
      const panel = tracker.currentWidget;
      const cell = panel?.content.activeCell;
      const code = typeof args.code === 'string' ? args.code : null;
      if (!panel || !cell || code === null) {
        inform(
          trans.__('Open a notebook and select the cell to apply the code to.')
        );
        return;
      }
      return show(
        panel,
        cell,
        trans.__('Apply this code to the cell?'),
        null,
        code
      );
    }
  });
}
