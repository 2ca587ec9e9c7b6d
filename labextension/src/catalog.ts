/**
 * "Get more models…" wiring: the command that opens the catalog in the main area (one
 * widget at a time, restored after a reload) and the state behind it, which follows a pull
 * still running on the server from before a reload.
 */
import { JupyterFrontEnd, ILayoutRestorer } from '@jupyterlab/application';
import { WidgetTracker } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { catalogApi } from './request';
import { CatalogModel, IPull } from './state/catalog';
import { CommandIDs } from './tokens';
import type { CatalogWidget } from './widgets/catalog';

export interface ICatalogWiring {
  app: JupyterFrontEnd;
  restorer: ILayoutRestorer | null;
  trans: TranslationBundle;
  /** A pull ended done: e.g. list the models again so the picker shows it. */
  onPulled: (pull: IPull) => void;
}

/** Register the command; the function that opens the catalog. */
export function registerCatalog(options: ICatalogWiring): () => void {
  const { app, restorer, trans } = options;
  const model = new CatalogModel({
    api: catalogApi,
    onPulled: options.onPulled,
    trans
  });
  const tracker = new WidgetTracker<CatalogWidget>({
    namespace: 'tinyai-catalog'
  });
  const shown: { widget: CatalogWidget | null } = { widget: null };
  const open = async () => {
    if (!shown.widget || shown.widget.isDisposed) {
      const { CatalogWidget } = await import('./widgets/catalog');
      shown.widget = new CatalogWidget(model, trans); // disposed when its tab is closed
      await tracker.add(shown.widget);
      app.shell.add(shown.widget, 'main');
    }
    app.shell.activateById(shown.widget.id);
  };
  app.commands.addCommand(CommandIDs.getMoreModels, {
    label: trans.__('Get more models…'),
    caption: trans.__('Download a model that fits this machine'),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: open
  });
  void restorer?.restore(tracker, {
    command: CommandIDs.getMoreModels,
    name: () => 'catalog'
  });
  void model.poll(); // a pull still running from before a reload: followed until it ends
  return () => void open();
}
