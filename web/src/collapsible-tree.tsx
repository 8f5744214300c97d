import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

export interface TreeItem<T> {
  id: string;
  children: T[];
}

/**
 * A collapsible tree drawn as nested lists of buttons, so it works with the keyboard (Tab, Enter,
 * Space). `row` draws one item's line; the selected item is marked with aria-current.
 */
export function CollapsibleTree<T extends TreeItem<T>>({
  roots,
  row,
  label,
  selected,
  onSelect,
  openDepth = 99,
}: {
  roots: T[];
  row: (item: T) => ComponentChildren;
  label: string;
  selected: string | undefined;
  onSelect: (item: T) => void;
  /** Items shallower than this start open. */
  openDepth?: number;
}) {
  const [toggled, setToggled] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) => {
    const next = new Set(toggled);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setToggled(next);
  };
  const branch = (items: T[], depth: number): ComponentChildren => (
    <ul class={depth === 0 ? "tree" : undefined}>
      {items.map((item) => {
        const open = depth < openDepth !== toggled.has(item.id);
        return (
          <li key={item.id} data-id={item.id}>
            <div class="tree-row">
              {item.children.length > 0 ? (
                <button
                  type="button"
                  class="toggle"
                  aria-expanded={open}
                  aria-label={`${open ? "Collapse" : "Expand"} (${item.children.length} below)`}
                  onClick={() => toggle(item.id)}
                >
                  {open ? "▾" : "▸"}
                </button>
              ) : (
                <span class="toggle" aria-hidden="true" />
              )}
              <button
                type="button"
                class="node"
                aria-current={selected === item.id ? "true" : undefined}
                onClick={() => onSelect(item)}
              >
                {row(item)}
              </button>
            </div>
            {open && item.children.length > 0 && branch(item.children, depth + 1)}
          </li>
        );
      })}
    </ul>
  );
  return (
    <nav aria-label={label} class="tree-wrap">
      {branch(roots, 0)}
    </nav>
  );
}
