/**
 * A DOM element in one call, for the views built by hand.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A styled button that runs `run` on click (the click goes no further: not to the cell). */
export function button(
  label: string,
  className: string,
  run: () => void
): HTMLButtonElement {
  const b = el('button', `jp-mod-styled ${className}`, label);
  b.type = 'button';
  b.addEventListener('click', event => {
    event.preventDefault();
    event.stopPropagation();
    run();
  });
  return b;
}
