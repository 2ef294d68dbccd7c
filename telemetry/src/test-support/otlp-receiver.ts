/**
 * A real OTLP/HTTP receiver for tests: an HTTP server on a free port that decodes each
 * ExportTraceServiceRequest (JSON) and keeps its spans, each with the service that sent it.
 * `blackHole` accepts requests and never answers (a collector that hangs).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** Requests that reached it (answered or not). */
  requests: number;
  close(): Promise<void>;
}

interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
}

interface OtlpJsonRequest {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpJsonSpan[] }[] }[];
}

function decode(body: OtlpJsonRequest): ReceivedSpan[] {
  return body.resourceSpans.flatMap((rs) => {
    const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        service,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || undefined,
        name: s.name,
        kind: s.kind,
        startNs: BigInt(s.startTimeUnixNano),
        endNs: BigInt(s.endTimeUnixNano),
        attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])),
        status: s.status ?? {},
      })),
    );
  });
}

export async function startOtlpReceiver(options: { blackHole?: boolean } = {}): Promise<OtlpReceiver> {
  const held: ServerResponse[] = [];
  const receiver: OtlpReceiver = { url: '', spans: [], requests: 0, close: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    receiver.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (options.blackHole) {
        held.push(res);
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(404).end();
        return;
      }
      receiver.spans.push(...decode(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJsonRequest));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((done) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => done());
    });
  return receiver;
}
