import type { RouteView } from "./run-model.js";

/** auto's routing decisions: the action taken, why, and what each action was predicted to give. */
export function RouteDecisions({ routes }: { routes: RouteView[] }) {
  return (
    <ol class="routes">
      {routes.map((route) => (
        <li key={route.seq}>
          <strong>{route.choice}</strong> <span>{route.reason}</span>
          <dl>
            {Object.entries(route.predictions).map(([action, p]) => (
              <div key={action}>
                <dt>P(correct) if {action}</dt>
                <dd>{p.toFixed(2)}</dd>
              </div>
            ))}
          </dl>
          <details>
            <summary>Probe features</summary>
            <dl>
              {Object.entries(route.features).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{Number.isInteger(value) ? value : value.toFixed(3)}</dd>
                </div>
              ))}
            </dl>
          </details>
        </li>
      ))}
    </ol>
  );
}
