import type { GenerateRequest } from "../core/backend.js";

/**
 * Wraps `onDelta` so the caller can tell whether any text reached it: after that a call must not be
 * tried again (or elsewhere), since text already delivered cannot be taken back.
 */
export function trackDelivery(request: GenerateRequest): {
  request: GenerateRequest;
  delivered: () => boolean;
} {
  const { onDelta } = request;
  if (!onDelta) return { request, delivered: () => false };
  let delivered = false;
  return {
    request: {
      ...request,
      onDelta: (delta) => {
        if (delta.text !== "") delivered = true;
        onDelta(delta);
      },
    },
    delivered: () => delivered,
  };
}
