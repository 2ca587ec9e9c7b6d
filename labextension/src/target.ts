/**
 * Which cell a command works on: the one under the context menu when it was run from there,
 * else the active cell.
 */

import { JupyterFrontEnd } from '@jupyterlab/application';
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/**
 * The cell under the context menu while it is open (and while the item clicked in it runs):
 * the menu's items take no arguments, so that they show the commands' shortcuts.
 */
let menuCellNode: HTMLElement | null = null;

export function trackContextMenu(app: JupyterFrontEnd): void {
  app.contextMenu.opened.connect(() => {
    menuCellNode =
      app.contextMenuHitTest(n => n.classList.contains('jp-Cell')) ?? null;
  });
  app.contextMenu.menu.aboutToClose.connect(() => {
    // the clicked item runs right after the menu closes
    setTimeout(() => (menuCellNode = null), 0);
  });
}

/** From the context menu: the cell right-clicked; otherwise the active cell. */
export function targetCell(
  app: JupyterFrontEnd,
  panel: NotebookPanel,
  args: ReadonlyPartialJSONObject
): Cell | null {
  const node =
    menuCellNode ??
    (args.origin === 'context-menu'
      ? app.contextMenuHitTest(n => n.classList.contains('jp-Cell'))
      : undefined);
  if (node) {
    const cell = panel.content.widgets.find(w => w.node === node);
    if (cell) {
      return cell;
    }
  }
  return panel.content.activeCell;
}
