/**
 * One HTTP invocation classed for the hostile and soak tests: 'ok' with its body, the gateway's
 * error type, or what went wrong on the way (an unparsable answer, a network error). Never throws:
 * a run of thousands counts outcomes rather than stopping at the first surprise.
 */
export interface InvocationOutcome {
  outcome: string;
  /** The body of a 200; otherwise the status and the start of the body, or the network error. */
  detail: string;
}

export async function invocationOutcome(url: string): Promise<InvocationOutcome> {
  try {
    const res = await fetch(url);
    const body = await res.text();
    if (res.status === 200) return { outcome: 'ok', detail: body };
    try {
      return { outcome: (JSON.parse(body) as { error: { type: string } }).error.type, detail: `${res.status} ${body.slice(0, 200)}` };
    } catch {
      return { outcome: `unparsable_${res.status}`, detail: body.slice(0, 200) };
    }
  } catch (err) {
    return { outcome: 'network_error', detail: String((err as Error).cause ?? err) };
  }
}
